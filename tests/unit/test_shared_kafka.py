"""What every subscriber shares, and how sparse topics are polled less often."""

from __future__ import annotations

from faststream import AckPolicy

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
