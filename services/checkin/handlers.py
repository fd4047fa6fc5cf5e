"""Kafka subscribers of the checkin service: decode, call the service; nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from faststream.kafka.fastapi import KafkaRouter

from services.checkin.config import Settings
from services.checkin.services import Services
from shared.events import (
    REGISTRY_EVENT_ADAPTER,
    REGISTRY_TOPIC,
    STATUS_EVENT_ADAPTER,
    STATUS_TOPIC,
    RegistryEvent,
    StatusEvent,
)
from shared.kafka import group_id, subscribe_one


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

    subscribe_one(
        router,
        kafka,
        REGISTRY_TOPIC,
        group_id(kafka, "checkin"),
        "on_registry_event",
        adapter=REGISTRY_EVENT_ADAPTER,
        apply=on_registry,
    )
    subscribe_one(
        router,
        kafka,
        STATUS_TOPIC,
        group_id(kafka, "checkin", "status"),
        "on_status_event",
        adapter=STATUS_EVENT_ADAPTER,
        apply=on_status,
    )
