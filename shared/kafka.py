"""Kafka plumbing: the FastStream router factory, topic creation, confirmed publishing and the DLQ.

Producers use ``acks=all`` and publishing awaits the broker's acknowledgement,
so a caller that gets an answer knows the event is on the topic. Consumers
acknowledge by hand (``AckPolicy.MANUAL``) after their transaction commits.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner, murmur2
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.fastapi import KafkaMessage, KafkaRouter
from pydantic import BaseModel, TypeAdapter, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared import telemetry, topics
from shared.dlq import parking_headers
from shared.errors import Unavailable
from shared.events import decode, dlq, encode, topic
from shared.metrics import DEAD_LETTERS, PUBLISH_FAILURES
from shared.settings import KafkaSettings

log = logging.getLogger("venuecode.kafka")
# How long a request waits for the broker before it answers 503: long enough
# for a leader election, short enough that a phone at a door is not left hanging.
PUBLISH_TIMEOUT_S = 5.0
# Failures that a retry can outlive: a database, cache or broker briefly away.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    KafkaError,
    OSError,
    TimeoutError,
)
# Pause before a failed message is redelivered, so an outage is not met with a busy loop.
REDELIVERY_PAUSE_S = 1.0
E = TypeVar("E")


# Brokers with middlewares of ours (tracing): they publish through FastStream, so every
# publish gets its span; the others hand events to aiokafka's producer directly.
_WRAPPED: weakref.WeakSet[Any] = weakref.WeakSet()


class _Broker(KafkaBroker):
    """FastStream's Kafka broker, its subscribers started side by side.

    A subscriber's start returns once its consumer group has given it partitions, and the
    broker holds each first JoinGroup a while (tansu ~1 s, measured; Kafka its
    ``group.initial.rebalance.delay.ms``, 3 s by default). FastStream starts them one after
    another, so a service with two subscribers took two of those waits to start; they are
    separate groups, so nothing orders them. Stopping was already concurrent in FastStream.
    """

    async def start(self) -> None:
        # KafkaBroker.start and BrokerUsecase.start (faststream 0.7.8), the subscribers at once.
        await self.connect()
        starting = [asyncio.ensure_future(sub.start()) for sub in self.subscribers]
        try:
            await asyncio.gather(*starting)
        except BaseException:
            # As the sequential start did: the first failure is raised, nothing keeps starting.
            for task in starting:
                task.cancel()
            await asyncio.gather(*starting, return_exceptions=True)
            raise
        for pub in self.publishers:
            await pub.start()
        self.running = True


class _Router(KafkaRouter):
    broker_class = _Broker


def make_router(settings: KafkaSettings, service: str, **fastapi: Any) -> KafkaRouter:
    """A FastStream router whose broker publishes with acks=all and serves ``service``."""
    middlewares = telemetry.broker_middlewares(service)
    router = _Router(
        settings.bootstrap,
        acks="all",
        enable_idempotence=settings.idempotent_producer,
        request_timeout_ms=settings.request_timeout_ms,
        client_id=f"venuecode-{service}",
        # No linger: a scan waits for its own acknowledgement, and under load the sends that queue
        # while a produce request is in flight go out together anyway (a check-in's publish
        # took 2.2 ms at p50 with 1 ms of linger, about 1 ms without).
        linger_ms=0,
        partitioner=remembered_partitioner,
        graceful_timeout=10.0,
        include_in_schema=False,
        schema_url=None,
        setup_state=False,
        # Spans for every publish and every subscriber, their context in the message headers
        # (none when tracing is off: no middleware runs then).
        middlewares=middlewares,
        **fastapi,
    )
    if middlewares:
        _WRAPPED.add(router.broker)
    return router


@functools.lru_cache(maxsize=16_384)
def _key_hash(key: bytes) -> int:
    return int(murmur2(key)) & 0x7FFFFFFF


def remembered_partitioner(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka's default partitioner (the Java client's murmur2 of the key), each key's hash
    remembered: murmur2 is pure Python, ~1 % of a check-in worker's CPU (py-spy), and a venue's
    key recurs with every scan there. The same partition for every key, as before."""
    if key is None:
        return int(DefaultPartitioner()(key, all_partitions, available))
    partition: int = all_partitions[_key_hash(key) % len(all_partitions)]
    return partition


class ConsumerOptions(TypedDict):
    auto_offset_reset: Literal["earliest"]
    ack_policy: AckPolicy
    fetch_max_wait_ms: int
    session_timeout_ms: int
    heartbeat_interval_ms: int
    max_poll_interval_ms: int
    fetch_max_bytes: int
    max_partition_fetch_bytes: int


def consumer_options(settings: KafkaSettings, *, sparse: bool = False) -> ConsumerOptions:
    """What every subscriber shares: manual acks after the transaction, start at the
    beginning when the group is new, and this deployment's timing. ``sparse``: a topic of
    occasional events, polled less often (``KafkaSettings.sparse_fetch_max_wait_ms``)."""
    return {
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.MANUAL,
        "fetch_max_wait_ms": settings.sparse_fetch_max_wait_ms if sparse else settings.fetch_max_wait_ms,
        "session_timeout_ms": settings.session_timeout_ms,
        "heartbeat_interval_ms": settings.heartbeat_interval_ms,
        "max_poll_interval_ms": settings.max_poll_interval_ms,
        "fetch_max_bytes": settings.fetch_max_bytes,
        "max_partition_fetch_bytes": settings.max_partition_fetch_bytes,
    }


def group_id(settings: KafkaSettings, service: str, purpose: str = "") -> str:
    """The stable consumer group of one service (and purpose), within the namespace."""
    return f"{settings.namespace}venuecode-{service}{'-' + purpose if purpose else ''}"


async def ensure_topics(settings: KafkaSettings, names: Iterable[str]) -> None:
    """Create the missing namespaced topics as configured (see ``shared.topics``)."""
    await topics.create(settings, names)


async def publish(
    router: KafkaRouter, settings: KafkaSettings, name: str, events: Sequence[BaseModel], key: bytes
) -> None:
    """Send events to one topic under one key and wait until the broker acknowledged all.

    The sends are queued together (one produce request) and then awaited, so a
    group check-in costs one round trip. Raises ``Unavailable`` (503) when the
    broker does not acknowledge in time.
    """
    target = topic(name, settings.namespace)
    producer = _plain_producer(router)
    try:
        async with asyncio.timeout(PUBLISH_TIMEOUT_S):
            if producer is not None:
                pending = [
                    await producer.send(target, encode(e), key=key, headers=_headers()) for e in events
                ]
            else:
                pending = [
                    await router.broker.publish(encode(e), target, key=key, no_confirm=True) for e in events
                ]
            await (pending[0] if len(pending) == 1 else asyncio.gather(*pending))
    except (TimeoutError, KafkaError, ConnectionError) as exc:
        log.warning("publish failed", extra={"topic": target, "error_type": type(exc).__name__})
        PUBLISH_FAILURES.labels(name).inc()
        raise Unavailable("The event stream is unavailable; retry shortly.", 2) from exc


def _plain_producer(router: KafkaRouter) -> AIOKafkaProducer | None:
    """aiokafka's producer under the router's broker when no middleware of ours wraps publishing
    (tracing off) and the broker is connected; else None, and FastStream publishes.

    A send through FastStream's broker (publish command, middleware scope, codec) cost about as
    much CPU as the produce request itself (py-spy on a check-in worker under load); the events
    are bytes already, so the producer's own ``send`` is all a publish needs. FastStream's
    internals are read here only: pinned by constraints.txt, and anything unexpected falls back.
    """
    if router.broker in _WRAPPED:
        return None
    state = getattr(router.broker.config.producer, "_producer", None)
    producer = getattr(state, "producer", None) if state else None
    return producer if isinstance(producer, AIOKafkaProducer) else None


def _headers() -> list[tuple[str, bytes]]:
    """The headers FastStream's publish gives a bytes body, so consumers see the same messages."""
    return [("content-type", b""), ("correlation_id", str(uuid.uuid4()).encode())]


@dataclass(frozen=True)
class Publisher:
    """The one way a service sends events: a named object per topic, so a reader can follow a
    publish from the service that calls ``send`` to the topic it reaches.

    ``key`` picks the partition (and so the order) of the events: a person, a venue, a command.
    """

    router: KafkaRouter
    settings: KafkaSettings
    topic: str

    async def send(self, events: Sequence[BaseModel], key: bytes) -> None:
        """Send events under one key and wait until the broker acknowledged all (503 if not)."""
        await publish(self.router, self.settings, self.topic, events, key=key)


async def dead_letter(
    router: KafkaRouter,
    settings: KafkaSettings,
    name: str,
    raw: bytes,
    error: Exception,
    *,
    key: bytes | None = None,
) -> None:
    """Park a message that cannot be handled on the topic's ``.dlq`` twin, with its key and the
    error in its headers (``shared.dlq``: what ``venuecode dlq list`` shows and ``replay`` uses)."""
    target = dlq(topic(name, settings.namespace))
    headers = parking_headers(topic(name, settings.namespace), error)
    await router.broker.publish(raw, target, key=key, headers=headers)
    log.warning(
        "message dead-lettered",
        extra={
            "topic": target,
            "error_type": headers["x-error-type"],
            "error_field": headers.get("x-error-field"),
            "error": headers["x-error"],
        },
    )
    DEAD_LETTERS.labels(name).inc()


def unless_transient(error: Exception) -> bool:
    """A parking policy: park everything a retry cannot outlive (see ``settle_one``)."""
    return not isinstance(error, TRANSIENT_ERRORS)


async def settle_one(
    router: KafkaRouter,
    settings: KafkaSettings,
    msg: KafkaMessage,
    name: str,
    *,
    adapter: TypeAdapter[E],
    apply: Callable[[E], Awaitable[object]],
    parks: Callable[[Exception], bool] = unless_transient,
) -> None:
    """The one way a subscriber handles a message: acknowledged only after ``apply`` (and the
    transaction inside it) finished.

    A body that does not decode, and a failure that ``parks`` says would fail the same way on
    every retry, go to the topic's ``.dlq`` and are acknowledged: one bad message never stops
    its partition. Any other failure is redelivered after a pause (nack), so an outage of the
    database loses nothing.
    """
    key = getattr(msg.raw_message, "key", None)
    try:
        event = decode(msg.body, adapter)
    except ValidationError as exc:
        await dead_letter(router, settings, name, msg.body, exc, key=key)
        await msg.ack()
        return
    try:
        await apply(event)
    except Exception as exc:
        if parks(exc):
            await dead_letter(router, settings, name, msg.body, exc, key=key)
            await msg.ack()
            return
        log.warning(
            "message not handled; redelivering", extra={"topic": name, "error_type": type(exc).__name__}
        )
        await asyncio.sleep(REDELIVERY_PAUSE_S)
        await msg.nack()
        return
    await msg.ack()


async def ping(router: KafkaRouter, timeout_s: float = 2.0) -> bool:
    try:
        return bool(await router.broker.ping(timeout_s))
    except Exception:
        return False


async def consuming(router: KafkaRouter) -> bool | str:
    """True while each subscriber has a task consuming; else the topics nobody consumes here.

    FastStream restarts a subscriber's task that failed, but not one ended by a cancellation
    (its supervisor ignores CancelledError): the replica keeps its partitions, heartbeats, and
    consumes nothing. Tracing's check-in subscriber once ended so after a rebalance. Readiness
    says so, and with it ``venuecode_dependency_up{dependency="consumers"}`` and its alert.
    """
    stopped = [
        name
        for subscriber in router.broker.subscribers
        if (tasks := getattr(subscriber, "tasks", None)) and all(task.done() for task in tasks)
        for name in getattr(subscriber, "topic_names", ())
    ]
    return f"nothing consumes {', '.join(stopped)}" if stopped else True


def subscribe_one(
    router: KafkaRouter,
    settings: KafkaSettings,
    name: str,
    group: str,
    handler: str,
    *,
    adapter: TypeAdapter[E],
    apply: Callable[[E], Awaitable[object]],
    parks: Callable[[Exception], bool] = unless_transient,
) -> None:
    """Subscribe the consumer group ``group`` to a topic of occasional events (``sparse``
    polling), each message settled alone by ``settle_one``. ``handler`` names the subscriber,
    as its function's name would: the AsyncAPI document calls the channel ``<topic>:<Handler>``."""

    async def on_message(msg: KafkaMessage) -> None:
        await settle_one(router, settings, msg, name, adapter=adapter, apply=apply, parks=parks)

    on_message.__name__ = on_message.__qualname__ = handler
    subscriber = router.subscriber(
        topic(name, settings.namespace), group_id=group, **consumer_options(settings, sparse=True)
    )
    subscriber(on_message)
