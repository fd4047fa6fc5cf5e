"""Kafka subscribers of the checkin service: decode, call the service; nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.kafka.fastapi import KafkaMessage, KafkaRouter

from services.checkin.config import Settings
from services.checkin.services import Services
from shared.events import (
    REGISTRY_EVENT_ADAPTER,
    REGISTRY_TOPIC,
    STATUS_EVENT_ADAPTER,
    STATUS_TOPIC,
    RegistryEvent,
    StatusEvent,
    topic,
)
from shared.kafka import consumer_options, group_id, settle_one


def register(
    router: KafkaRouter,
    settings: Settings,
    services: Callable[[], Services],
) -> None:
    """Attach this service's subscribers to its router; the services are read once the app runs."""
    kafka = settings.infra.kafka

    def on_registry(event: RegistryEvent) -> Awaitable[bool]:
        return services().registry.apply(event)

    def on_status(event: StatusEvent) -> Awaitable[bool]:
        return services().status.apply(event)

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
            apply=on_registry,
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
            apply=on_status,
        )
