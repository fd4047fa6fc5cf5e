"""A DLQ round trip on the test broker: a poison message is parked with its field path (headers
and log line), `venuecode dlq list` shows it, fixed code gets it by `dlq replay`, and applies
it once, the messages around it untouched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from faststream.kafka.fastapi import KafkaMessage
from pydantic import BaseModel, TypeAdapter, field_validator

from shared import dlq, topics
from shared.events import STATUS_COMMANDS_TOPIC, topic
from shared.events import dlq as dlq_of
from shared.kafka import consumer_options, group_id, make_router, settle_one
from shared.settings import InfraSettings, KafkaSettings
from tests.conftest import Stack
from tests.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
NAME = STATUS_COMMANDS_TOPIC  # the channel under test; the test's namespace keeps it private
DEADLINE_S = 30.0


class Data(BaseModel):
    qty: int


class Order(BaseModel):
    type: Literal["order.placed"] = "order.placed"
    event_id: UUID
    data: Data


class FixedData(Data):
    """The fix: a quantity written as "3 boxes" is read as 3."""

    @field_validator("qty", mode="before")
    @classmethod
    def leading_number(cls, value: object) -> object:
        return value.split()[0] if isinstance(value, str) else value


class FixedOrder(Order):
    data: FixedData


def order(qty: object) -> bytes:
    return (
        Order.model_construct(event_id=uuid4(), data=Data.model_construct(qty=qty)).model_dump_json().encode()
    )


@asynccontextmanager
async def consumer(
    kafka: KafkaSettings, adapter: TypeAdapter[Order], applied: list[Order]
) -> AsyncIterator[Callable[[bytes, bytes], object]]:
    """A subscriber settling through shared.kafka.settle_one, as every service's does."""
    router = make_router(kafka, "dlqtest")

    async def apply(event: Order) -> None:
        applied.append(event)

    @router.subscriber(
        topic(NAME, kafka.namespace), group_id=group_id(kafka, "dlqtest"), **consumer_options(kafka)
    )
    async def on_order(msg: KafkaMessage) -> None:
        await settle_one(router, kafka, msg, NAME, adapter=adapter, apply=apply)

    app = FastAPI()
    app.include_router(router)
    async with app.router.lifespan_context(app):

        async def send(body: bytes, key: bytes) -> object:
            return await router.broker.publish(body, topic(NAME, kafka.namespace), key=key)

        yield send


def cli(infra: InfraSettings, stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENUECODE_")}
    env |= {
        "VENUECODE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "VENUECODE_KAFKA_NAMESPACE": infra.kafka_namespace,
        "VENUECODE_STATE_DIR": str(infra.state_dir),
    }
    command = [sys.executable, "-m", "services.cli", "dlq", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)


async def test_poison_is_parked_with_its_field_then_replayed_to_fixed_code_and_applied_once(
    infra: InfraSettings, stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    kafka = infra.kafka
    await topics.create(kafka, [NAME, dlq_of(NAME)])
    first, poison, last = order(1), order("3 boxes"), order(2)
    poison_id = json.loads(poison)["event_id"]

    applied: list[Order] = []
    with caplog.at_level(logging.WARNING, logger="venuecode.kafka"):
        async with consumer(kafka, TypeAdapter(Order), applied) as send:
            for body in (first, poison, last):
                await send(body, b"order-7")
            await eventually(lambda: len(applied) == 2, timeout_s=30, what="the two good orders applied")
    assert [o.data.qty for o in applied] == [1, 2]

    (parked,) = await dlq.parked(kafka, NAME)
    assert parked.key == b"order-7"
    assert parked.value == poison
    assert parked.headers["x-error-type"] == "ValidationError"
    assert parked.headers["x-error-field"] == "data.qty"
    assert parked.headers["x-error"] == (
        "data.qty: Input should be a valid integer, unable to parse string as an integer"
    )
    assert "3 boxes" not in str(parked.headers)  # the input is never copied (it may be personal data)
    assert parked.headers["x-original-topic"] == topic(NAME, kafka.namespace)
    (logged,) = [r for r in caplog.records if r.getMessage() == "message dead-lettered"]
    assert (logged.error_type, logged.error_field) == ("ValidationError", "data.qty")  # type: ignore[attr-defined]
    assert logged.error == parked.headers["x-error"]  # type: ignore[attr-defined]

    listed = cli(infra, stack, "list", NAME).stdout.splitlines()
    assert len(listed) == 2
    assert f"order.placed {poison_id} ValidationError field=data.qty: data.qty: Input should be" in listed[0]
    assert listed[1] == f"1 message(s) parked on {NAME}.dlq"

    # The fix is deployed (same consumer group: it resumes after what was committed), then replayed.
    fixed: list[Order] = []
    async with consumer(kafka, TypeAdapter(FixedOrder), fixed):
        later = datetime.now(UTC) + timedelta(minutes=1)
        assert await dlq.replay(kafka, NAME, since=later) == []
        replayed = cli(infra, stack, "replay", NAME).stdout.splitlines()
        assert replayed[-1] == f"1 message(s) replayed to {NAME}"
        await eventually(lambda: fixed, timeout_s=30, what="the replayed order applied")
        await asyncio.sleep(1.0)  # a bounded look for anything applied twice or redelivered
    assert [(str(o.event_id), o.data.qty) for o in fixed] == [(poison_id, 3)]
    assert len(await dlq.parked(kafka, NAME)) == 1  # parking is a log: the record stays, replay copies
