"""Consumer timing and topic shapes are settings: production sessions outlive a broker restart,
development keeps tansu's joins short, and every knob reaches the subscribers."""

from __future__ import annotations

from shared.events import CHECKINS_TOPIC, REGISTRY_TOPIC, dlq
from shared.kafka import consumer_options
from shared.settings import Environment, InfraSettings
from shared.topics import every_topic, spec_of


def test_production_sessions_outlive_a_broker_restart_and_development_joins_fast() -> None:
    production = InfraSettings(env=Environment.PRODUCTION).kafka
    assert production.session_timeout_ms >= 30_000
    assert production.heartbeat_interval_ms * 3 <= production.session_timeout_ms
    development = InfraSettings().kafka
    assert (development.session_timeout_ms, development.heartbeat_interval_ms) == (6_000, 1_500)
    given = InfraSettings(env=Environment.PRODUCTION, kafka_session_timeout_ms=45_000).kafka
    assert given.session_timeout_ms == 45_000


def test_every_consumer_knob_reaches_the_subscribers() -> None:
    kafka = InfraSettings(
        kafka_max_poll_interval_ms=600_000,
        kafka_fetch_max_bytes=1_000_000,
        kafka_max_partition_fetch_bytes=200_000,
    ).kafka
    options = consumer_options(kafka)
    assert (
        options["max_poll_interval_ms"],
        options["fetch_max_bytes"],
        options["max_partition_fetch_bytes"],
    ) == (
        600_000,
        1_000_000,
        200_000,
    )


def test_topic_specs_from_settings() -> None:
    kafka = InfraSettings(
        kafka_namespace="ns.",
        kafka_partitions=3,
        kafka_topic_partitions={CHECKINS_TOPIC: 48},
        kafka_replication_factor=3,
        kafka_min_insync_replicas=2,
    ).kafka
    checkins = spec_of(kafka, CHECKINS_TOPIC)
    assert (checkins.name, checkins.partitions, checkins.replication) == ("ns." + CHECKINS_TOPIC, 48, 3)
    assert checkins.config["min.insync.replicas"] == "2"
    assert spec_of(kafka, dlq(CHECKINS_TOPIC)).partitions == 3
    assert spec_of(kafka, REGISTRY_TOPIC).config["retention.ms"] == "-1"  # registry events are kept
    assert len(every_topic()) == 8
    assert all(dlq(name) in every_topic() for name in every_topic() if not name.endswith(".dlq"))
