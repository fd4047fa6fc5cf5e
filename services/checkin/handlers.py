"""Kafka subscribers of the checkin service: decode, call the service; nothing else."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka.fastapi import KafkaMessage, KafkaRouter

from services.checkin.config import Settings
from services.checkin.readmodel import RegistryProjection, StatusProjection
from shared.events import (
    REGISTRY_EVENT_ADAPTER,
    REGISTRY_TOPIC,
    STATUS_EVENT_ADAPTER,
    STATUS_TOPIC,
    topic,
)
from shared.kafka import consumer_options, group_id, settle_one


def register(
    router: KafkaRouter,
    settings: Settings,
    projection: Callable[[], RegistryProjection],
    status_projection: Callable[[], StatusProjection],
) -> None:
    """Attach this service's subscribers to its router; the projections are read once the app runs."""
    kafka = settings.infra.kafka

    @router.subscriber(
        topic(REGISTRY_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "checkin"),
        **consumer_options(kafka, sparse=True),
    )
    async def on_registry_event(msg: KafkaMessage) -> None:
        await settle_one(
            router,
            kafka,
            msg,
            REGISTRY_TOPIC,
            adapter=REGISTRY_EVENT_ADAPTER,
            apply=lambda e: projection().apply(e),
        )

    @router.subscriber(
        topic(STATUS_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "checkin", "status"),
        **consumer_options(kafka, sparse=True),
    )
    async def on_status_event(msg: KafkaMessage) -> None:
        await settle_one(
            router,
            kafka,
            msg,
            STATUS_TOPIC,
            adapter=STATUS_EVENT_ADAPTER,
            apply=lambda e: status_projection().apply(e),
        )
