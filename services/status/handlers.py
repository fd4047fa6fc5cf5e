"""Kafka subscribers of the status service: decode, call the service; nothing else."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka.fastapi import KafkaMessage, KafkaRouter

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
    StatusRevert,
    StatusSet,
    topic,
)
from shared.kafka import consumer_options, group_id, settle_one

# Errors that will fail the same way on every retry: the message is parked. Every other
# failure is retried, Redis and unexpected ones included: a colour change is never parked
# because the cache it must reach was away.
POISON = (BadStatusCommand, *DATA_ERRORS)


def poison(error: Exception) -> bool:
    return isinstance(error, POISON)


def register(router: KafkaRouter, settings: Settings, services: Callable[[], Services]) -> None:
    """Attach this service's subscribers; ``services`` gives them once the lifespan built them."""
    kafka = settings.infra.kafka

    @router.subscriber(
        topic(REGISTRY_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "status"),
        **consumer_options(kafka, sparse=True),
    )
    async def on_registry_event(msg: KafkaMessage) -> None:
        await settle_one(
            router,
            kafka,
            msg,
            REGISTRY_TOPIC,
            adapter=REGISTRY_EVENT_ADAPTER,
            apply=services().status.apply_registry_event,
            parks=poison,
        )

    @router.subscriber(
        topic(STATUS_COMMANDS_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "status", "commands"),
        **consumer_options(kafka, sparse=True),
    )
    async def on_status_command(msg: KafkaMessage) -> None:
        await settle_one(
            router, kafka, msg, STATUS_COMMANDS_TOPIC, adapter=EVENT_ADAPTER, apply=command, parks=poison
        )

    async def command(event: Event) -> None:
        # Other events on the topic are not ours to act on.
        if isinstance(event, StatusSet):
            await services().status.apply_command(event)
        elif isinstance(event, StatusRevert):
            await services().status.apply_revert(event)
