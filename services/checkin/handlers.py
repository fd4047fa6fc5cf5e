"""Kafka subscribers of the checkin service: decode, call the service; nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from faststream.kafka.fastapi import KafkaMessage, KafkaRouter
from pydantic import ValidationError

from services.checkin.config import Settings
from services.checkin.readmodel import RegistryProjection
from shared.events import REGISTRY_EVENT_ADAPTER, REGISTRY_TOPIC, decode, topic
from shared.kafka import consumer_options, dead_letter, group_id

log = logging.getLogger("venuecode.checkin.handlers")
# Failures worth a redelivery (the database is briefly away), as opposed to a message we cannot handle.
TRANSIENT = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError, TimeoutError)
# Pause before a redelivery so a database restart is not met with a tight retry loop.
REDELIVERY_PAUSE_S = 1.0


def register(router: KafkaRouter, settings: Settings, projection: Callable[[], RegistryProjection]) -> None:
    """Attach this service's subscribers to its router; ``projection`` is read once the app runs."""
    kafka = settings.infra.kafka

    @router.subscriber(
        topic(REGISTRY_TOPIC, kafka.namespace),
        group_id=group_id(kafka, "checkin"),
        **consumer_options(kafka),
        include_in_schema=False,
    )
    async def on_registry_event(msg: KafkaMessage) -> None:
        try:
            event = decode(msg.body, REGISTRY_EVENT_ADAPTER)
        except ValidationError as exc:
            await dead_letter(router, kafka, REGISTRY_TOPIC, msg.body, exc)
            await msg.ack()
            return
        try:
            await projection().apply(event)
        except TRANSIENT:
            log.warning("registry event not applied; redelivering", extra={"event_type": event.type})
            await asyncio.sleep(REDELIVERY_PAUSE_S)
            await msg.nack()
            return
        except Exception as exc:
            await dead_letter(router, kafka, REGISTRY_TOPIC, msg.body, exc)
        await msg.ack()
