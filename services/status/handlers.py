"""Kafka subscribers of the status service: decode, call the service; nothing else."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka.fastapi import KafkaRouter

from services.status.config import Settings
from services.status.errors import BadStatusCommand
from services.status.services import Services
from services.status.store import DATA_ERRORS
from shared.events import (
    EVENT_ADAPTER,
    REGISTRY_EVENT_ADAPTER,
    REGISTRY_TOPIC,
    STATUS_COMMANDS_TOPIC,
    Event,
    RegistryEvent,
    StatusRevert,
    StatusSet,
)
from shared.kafka import group_id, subscribe_one

# Errors that will fail the same way on every retry: the message is parked. Every other
# failure is retried, Redis and unexpected ones included: a colour change is never parked
# because the cache it must reach was away.
POISON = (BadStatusCommand, *DATA_ERRORS)


def poison(error: Exception) -> bool:
    return isinstance(error, POISON)


def register(router: KafkaRouter, settings: Settings, services: Callable[[], Services]) -> None:
    """Attach this service's subscribers; ``services`` gives them once the lifespan built them."""
    kafka = settings.infra.kafka

    async def registry_event(event: RegistryEvent) -> None:
        await services().status.apply_registry_event(event)

    async def command(event: Event) -> None:
        # Other events on the topic are not ours to act on.
        if isinstance(event, StatusSet):
            await services().status.apply_command(event)
        elif isinstance(event, StatusRevert):
            await services().status.apply_revert(event)

    subscribe_one(
        router,
        kafka,
        REGISTRY_TOPIC,
        group_id(kafka, "status"),
        "on_registry_event",
        adapter=REGISTRY_EVENT_ADAPTER,
        apply=registry_event,
        parks=poison,
    )
    subscribe_one(
        router,
        kafka,
        STATUS_COMMANDS_TOPIC,
        group_id(kafka, "status", "commands"),
        "on_status_command",
        adapter=EVENT_ADAPTER,
        apply=command,
        parks=poison,
    )
