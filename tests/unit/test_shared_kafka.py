"""What every subscriber shares, and how sparse topics are polled less often."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.partitioner import DefaultPartitioner
from faststream import AckPolicy
from pydantic import TypeAdapter

from shared import kafka
from shared.kafka import TRANSIENT_ERRORS, consumer_options, unless_transient
from shared.settings import KafkaSettings


def test_subscribers_ack_by_hand_and_sparse_topics_are_polled_less_often() -> None:
    settings = KafkaSettings(fetch_max_wait_ms=10, sparse_fetch_max_wait_ms=100)
    busy = consumer_options(settings)
    sparse = consumer_options(settings, sparse=True)
    assert busy["ack_policy"] is AckPolicy.MANUAL
    assert sparse["ack_policy"] is AckPolicy.MANUAL
    assert (busy["fetch_max_wait_ms"], sparse["fetch_max_wait_ms"]) == (10, 100)
    assert busy["auto_offset_reset"] == "earliest"


def test_only_what_a_retry_can_outlive_is_redelivered() -> None:
    assert not unless_transient(ConnectionRefusedError())
    assert not unless_transient(TimeoutError())
    assert unless_transient(ValueError("a bug or a bad message"))
    assert all(issubclass(kind, Exception) for kind in TRANSIENT_ERRORS)


class _Message:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.raw_message = None
        self.settled: list[str] = []

    async def ack(self) -> None:
        self.settled.append("ack")

    async def nack(self) -> None:
        self.settled.append("nack")


class _Broker:
    def __init__(self) -> None:
        self.parked: list[tuple[str, str]] = []

    async def publish(
        self, raw: bytes, target: str, headers: dict[str, str], key: bytes | None = None
    ) -> None:
        self.parked.append((target, headers["x-error-type"]))


class _Router:
    def __init__(self) -> None:
        self.broker = _Broker()


@pytest.mark.parametrize(
    ("body", "failure", "settled", "parked"),
    [
        (b'{"n": 1}', None, ["ack"], []),
        (b"not json", None, ["ack"], ["ValidationError"]),
        (b'{"n": 1}', ConnectionRefusedError(), ["nack"], []),
        (b'{"n": 1}', ValueError("bad"), ["ack"], ["ValueError"]),
    ],
)
async def test_settle_one_acks_parks_or_redelivers(
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
    failure: Exception | None,
    settled: list[str],
    parked: list[str],
) -> None:
    """The pure policy of settle_one (its Kafka side runs in the services' integration tests)."""
    monkeypatch.setattr(kafka, "REDELIVERY_PAUSE_S", 0.0)
    router, msg, applied = _Router(), _Message(body), []

    async def apply(event: dict[str, int]) -> None:
        applied.append(event)
        if failure is not None:
            raise failure

    adapter = TypeAdapter(dict[str, int])
    await kafka.settle_one(router, KafkaSettings(), msg, "t.v1", adapter=adapter, apply=apply)  # type: ignore[arg-type]
    assert msg.settled == settled
    assert [kind for _, kind in router.broker.parked] == parked
    assert all(target == "t.v1.dlq" for target, _ in router.broker.parked)


def test_the_remembered_partitioner_picks_the_partition_kafka_s_default_would() -> None:
    """Keys must land where they always did (the order of a venue's events), hash remembered or not."""
    default = DefaultPartitioner()
    for count in (1, 3, 4, 48):
        partitions = list(range(count))
        for i in range(300):
            key = str(uuid.UUID(int=i * 7919 + count)).encode()
            for _ in range(2):  # the first answer computes the hash, the second remembers it
                assert kafka.remembered_partitioner(key, partitions, partitions) == default(
                    key, partitions, partitions
                )
    assert kafka.remembered_partitioner(None, [0, 1], [1]) == 1  # no key: an available partition
