"""Kafka subscribers of the tracing service: each hands its messages over; nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.kafka.fastapi import KafkaMessage, KafkaRouter

from services.tracing.config import Settings
from services.tracing.pipeline import NAME, one_message_for_the_batch, raw_bodies
from services.tracing.services import Services
from shared.events import CHECKINS_TOPIC, REGISTRY_EVENT_ADAPTER, REGISTRY_TOPIC, RegistryEvent, topic
from shared.kafka import consumer_options, group_id, subscribe_one


def register(router: KafkaRouter, settings: Settings, services: Callable[[], Services]) -> None:
    """Attach the check-in batch subscriber and the registry subscriber to the router."""
    kafka = settings.infra.kafka

    @router.subscriber(
        topic(CHECKINS_TOPIC, kafka.namespace),
        group_id=group_id(kafka, NAME, settings.checkins_group),
        **consumer_options(kafka),
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        parser=one_message_for_the_batch,
        decoder=raw_bodies,
    )
    async def on_checkins(msg: KafkaMessage) -> None:
        await services().pipeline.take(msg.raw_message, msg.consumer)

    def project(event: RegistryEvent) -> Awaitable[bool]:
        return services().registry.apply(event)

    # Occasional events: polled every 100 ms, so the idle subscriber takes little from ingestion.
    # A failure (Postgres away) is redelivered by settle_one, never acknowledged past.
    subscribe_one(
        router,
        kafka,
        REGISTRY_TOPIC,
        group_id(kafka, NAME, "registry"),
        "on_registry",
        adapter=REGISTRY_EVENT_ADAPTER,
        apply=project,
    )
