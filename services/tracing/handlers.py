"""Kafka subscribers of the tracing service: decode, call the service; nothing else."""

from __future__ import annotations

from faststream.kafka.fastapi import KafkaRouter

from services.tracing.config import Settings


def register(router: KafkaRouter, settings: Settings) -> None:
    """Attach this service's subscribers to its router (none yet)."""
