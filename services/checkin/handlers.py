"""Kafka subscribers of the checkin service: decode, call the service; nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from faststream.kafka.fastapi import KafkaMessage, KafkaRouter
from pydantic import TypeAdapter, ValidationError

from services.checkin.config import Settings
from services.checkin.readmodel import RegistryProjection, StatusProjection
from shared.events import (
    REGISTRY_EVENT_ADAPTER,
    REGISTRY_TOPIC,
    STATUS_EVENT_ADAPTER,
    STATUS_TOPIC,
    decode,
    topic,
)
from shared.kafka import consumer_options, dead_letter, group_id

log = logging.getLogger("venuecode.checkin.handlers")
# Failures worth a redelivery (the database is briefly away), as opposed to a message we cannot handle.
TRANSIENT = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError)
# Pause before a redelivery so a database restart is not met with a tight retry loop.
REDELIVERY_PAUSE_S = 1.0

E = TypeVar("E")


def register(
    router: KafkaRouter,
    settings: Settings,
    projection: Callable[[], RegistryProjection],
    status_projection: Callable[[], StatusProjection],
) -> None:
    """Attach this service's subscribers to its router; the projections are read once the app runs."""
    kafka = settings.infra.kafka

    async def consume(
        msg: KafkaMessage, name: str, adapter: TypeAdapter[E], apply: Callable[[E], Awaitable[bool]]
    ) -> None:
        # Ack only after the event's transaction committed; park poison, redeliver the rest.
        try:
            event = decode(msg.body, adapter)
        except ValidationError as exc:
            await dead_letter(router, kafka, name, msg.body, exc)
            await msg.ack()
            return
        try:
            await apply(event)
        except TRANSIENT:
            kind = getattr(event, "type", None)
            log.warning("event not applied; redelivering", extra={"topic": name, "event_type": kind})
            await asyncio.sleep(REDELIVERY_PAUSE_S)
            await msg.nack()
            return
        except Exception as exc:
            await dead_letter(router, kafka, name, msg.body, exc)
        await msg.ack()

    @router.subscriber(
        topic(REGISTRY_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "checkin"),
        **consumer_options(kafka),
        include_in_schema=False,
    )
    async def on_registry_event(msg: KafkaMessage) -> None:
        await consume(msg, REGISTRY_TOPIC, REGISTRY_EVENT_ADAPTER, lambda e: projection().apply(e))

    @router.subscriber(
        topic(STATUS_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "checkin", "status"),
        **consumer_options(kafka),
        include_in_schema=False,
    )
    async def on_status_event(msg: KafkaMessage) -> None:
        await consume(msg, STATUS_TOPIC, STATUS_EVENT_ADAPTER, lambda e: status_projection().apply(e))
