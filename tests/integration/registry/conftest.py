"""Fixtures of the registry's integration tests: the app, accounts, and a reader of its topic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from fastapi import FastAPI

from services.registry.app import create_app
from services.registry.config import Settings
from shared.events import REGISTRY_EVENT_ADAPTER, REGISTRY_TOPIC, decode, topic
from shared.settings import InfraSettings
from tests.unit.registry.idgen import mainland_id
from tests.waiting import eventually

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


@dataclass
class Account:
    person_id: str
    token: str
    id_number: str
    name: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def settings(infra: InfraSettings) -> Settings:
    return Settings(infra=infra, outbox_relay_interval_s=0.2)


@pytest.fixture
async def client(settings: Settings, serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(settings)) as http:
        yield http


async def sign_up(http: httpx.AsyncClient, name: str = "張三明", number: str | None = None) -> Account:
    number = number or mainland_id()
    body = {
        "name": name,
        "id_kind": "mainland_id",
        "id_number": number,
        "phone": "13800138000",
        "password": "correct horse",
    }
    created = await http.post("/api/registry/v1/accounts", json=body)
    assert created.status_code == 201, created.text
    signed = await http.post(
        "/api/registry/v1/sessions", json={"id_number": number, "password": "correct horse"}
    )
    assert signed.status_code == 200, signed.text
    http.cookies.clear()  # tests say how they authenticate: a bearer header unless they sign in themselves
    return Account(created.json()["person_id"], signed.json()["access_token"], number, name)


@pytest.fixture
def make_account(client: httpx.AsyncClient) -> Callable[..., Any]:
    async def make(name: str = "張三明", number: str | None = None) -> Account:
        return await sign_up(client, name, number)

    return make


class TopicReader:
    """Reads the registry topic of this test's namespace from the start."""

    def __init__(self, infra: InfraSettings) -> None:
        self._infra = infra
        self.raw: list[bytes] = []

    async def wait_for(self, predicate: Callable[[list[Any]], bool], timeout_s: float = 15.0) -> list[Any]:
        """Every event on the topic once ``predicate(events)`` holds; fails at the deadline."""
        consumer = AIOKafkaConsumer(
            topic(REGISTRY_TOPIC, self._infra.kafka_namespace),
            bootstrap_servers=self._infra.kafka.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        await consumer.start()
        self.raw = []
        events: list[Any] = []

        async def read() -> list[Any] | None:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                for message in messages:
                    self.raw.append(message.value)
                    events.append((message.key, decode(message.value, REGISTRY_EVENT_ADAPTER)))
            return events if predicate([e for _, e in events]) else None

        try:
            return await eventually(
                read, timeout_s=timeout_s, interval_s=0, what="the awaited registry events"
            )
        finally:
            await consumer.stop()


async def end_offsets(infra: InfraSettings) -> int:
    """How many messages the broker holds on the registry topic, over all partitions."""
    name = topic(REGISTRY_TOPIC, infra.kafka_namespace)
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka.bootstrap)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(name) or set()
        ends = await consumer.end_offsets([TopicPartition(name, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()


@pytest.fixture
def reader(infra: InfraSettings) -> TopicReader:
    return TopicReader(infra)
