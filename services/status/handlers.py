"""Kafka subscribers of the status service: decode, call the service; nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from faststream.kafka.fastapi import KafkaMessage, KafkaRouter
from pydantic import ValidationError

from services.status.config import Settings
from services.status.errors import BadStatusCommand
from services.status.service import StatusService
from shared.events import (
    EVENT_ADAPTER,
    REGISTRY_EVENT_ADAPTER,
    REGISTRY_TOPIC,
    STATUS_COMMANDS_TOPIC,
    StatusSet,
    decode,
    topic,
)
from shared.kafka import consumer_options, dead_letter, group_id

log = logging.getLogger("venuecode.status.handlers")
# Pause before a failed message is redelivered, so a database outage is not a busy loop.
RETRY_PAUSE_S = 1.0
# Errors that will fail the same way on every retry: the message is parked, not retried.
POISON = (BadStatusCommand, asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


def register(router: KafkaRouter, settings: Settings, status: Callable[[], StatusService]) -> None:
    """Attach this service's subscribers; ``status`` gives the service once the lifespan built it."""
    kafka = settings.infra.kafka

    async def settle(msg: KafkaMessage, name: str, work: Callable[[], Awaitable[object]]) -> None:
        # Ack only after the transaction (inside ``work``) committed; park poison, retry the rest.
        try:
            await work()
        except POISON as exc:
            await dead_letter(router, kafka, name, msg.body, exc)
        except Exception:
            log.warning("message handling failed; will be redelivered", extra={"topic": name})
            await asyncio.sleep(RETRY_PAUSE_S)
            await msg.nack()
            raise
        await msg.ack()

    @router.subscriber(
        topic(REGISTRY_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "status"),
        **consumer_options(kafka),
    )
    async def on_registry_event(msg: KafkaMessage) -> None:
        try:
            event = decode(msg.body, REGISTRY_EVENT_ADAPTER)
        except ValidationError as exc:
            await dead_letter(router, kafka, REGISTRY_TOPIC, msg.body, exc)
            await msg.ack()
            return
        await settle(msg, REGISTRY_TOPIC, lambda: status().apply_registry_event(event))

    @router.subscriber(
        topic(STATUS_COMMANDS_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "status", "commands"),
        **consumer_options(kafka),
    )
    async def on_status_command(msg: KafkaMessage) -> None:
        try:
            command = decode(msg.body, EVENT_ADAPTER)
        except ValidationError as exc:
            await dead_letter(router, kafka, STATUS_COMMANDS_TOPIC, msg.body, exc)
            await msg.ack()
            return
        if not isinstance(command, StatusSet):
            await msg.ack()  # not ours to act on
            return
        await settle(msg, STATUS_COMMANDS_TOPIC, lambda: status().apply_command(command))
