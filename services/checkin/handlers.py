"""Kafka subscribers of the checkin service: decode, call the service; nothing else."""

from __future__ import annotations

from faststream.kafka.fastapi import KafkaRouter

from services.checkin.config import Settings


def register(router: KafkaRouter, settings: Settings) -> None:
    """Attach this service's subscribers to its router (none yet)."""
