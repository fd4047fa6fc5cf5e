"""Personal data: the whole story leaks no identity number and no unmasked name into logs,
topics or trace spans; identity numbers are unreadable in the database without the key; staff
reads are audited."""

from __future__ import annotations

import ast
import logging
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

import tests.e2e.test_story as story
from shared.logging import JsonFormatter
from shared.settings import InfraSettings
from tests.e2e.test_story import Person, platform
from tests.people import born_years_ago, mainland_id
from tests.spans import recorded_spans, span_texts
from tests.waiting import eventually

# A person's name in the story is a string literal of two to four CJK characters.
NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
SCHEMAS = ("registry", "checkin", "status", "tracing")


def story_names() -> set[str]:
    tree = ast.parse(Path(story.__file__).read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and NAME.match(node.value)
    }


class Everything(logging.Handler):
    """Keeps every record of every logger, formatted with its extra fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.lines.append(repr(record.args))


@pytest.fixture
def all_logs() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    loggers = [root] + [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]
    levels = {logger.name: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger in loggers:
            logger.setLevel(levels[logger.name])


@pytest.fixture
def identity_numbers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every identity number the story makes, recorded as the story asks for it."""
    made: list[str] = []

    def recording(born: object, region: str = "440106") -> str:
        number = mainland_id(born, region)  # type: ignore[arg-type]
        made.append(number)
        return number

    monkeypatch.setattr(story, "mainland_id", recording)
    return made


async def every_message(infra: InfraSettings) -> list[bytes]:
    """Every key and value on every topic of the test's namespace, from the beginning."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await consumer.start()
    found: list[bytes] = []
    try:
        names = [t for t in await consumer.topics() if t.startswith(infra.kafka.namespace)]
        assert names, "the story published nothing?"
        partitions = [
            TopicPartition(name, p) for name in names for p in consumer.partitions_for_topic(name) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = time.monotonic() + 30

        async def behind() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await behind():
            assert time.monotonic() < deadline, "could not read the topics to their end"
            batches = await consumer.getmany(*partitions, timeout_ms=200)
            for records in batches.values():
                for record in records:
                    found += [record.key or b"", record.value or b""]
    finally:
        await consumer.stop()
    return found


async def every_stored_text(infra: InfraSettings) -> list[tuple[str, str]]:
    """Every row of every table of the services, as text (bytea as hex), like a dump would show."""
    conn = await asyncpg.connect(infra.postgres.url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'",
            list(SCHEMAS),
        )
        rows: list[tuple[str, str]] = []
        for t in tables:
            name = f'"{t["table_schema"]}"."{t["table_name"]}"'
            for row in await conn.fetch(f"SELECT r::text AS line FROM {name} r"):
                rows.append((name, row["line"]))
        return rows
    finally:
        await conn.close()


async def test_the_story_leaks_no_identity_number_or_name(
    infra: InfraSettings, all_logs: Everything, identity_numbers: list[str]
) -> None:
    with recorded_spans() as exporter:
        await story.test_the_whole_story(infra)
        spans = exporter.get_finished_spans()

    names = story_names()
    assert len(identity_numbers) >= 8, identity_numbers
    assert len(names) >= 8, names
    logs = "\n".join(all_logs.lines)
    assert len(all_logs.lines) > 50  # the capture really saw the services talk
    messages = b"\n".join(await every_message(infra)).decode("utf-8", "replace")
    assert "person.registered" in messages
    traced = "\n".join(span_texts(spans))
    assert "db.statement" in traced  # the capture saw SQL spans, ...
    assert "db.statement.parameters" not in traced  # ... and never their values
    for number in identity_numbers:
        for form in (number, number.lower()):
            assert form not in logs, "an identity number in the logs"
            assert form not in messages, "an identity number on a topic"
            assert form not in traced, "an identity number in a span"
    for name in names:
        assert name not in logs, f"unmasked name {name} in the logs"
        assert name not in messages, f"unmasked name {name} on a topic"
        assert name not in traced, f"unmasked name {name} in a span"

    # The database: no identity number anywhere, as text or as bytes; a name only where
    # the registry keeps it (the account's own record).
    stored = await every_stored_text(infra)
    # The scan sees real data: the registry's own record of each account holds its name.
    people = " ".join(line for table, line in stored if table == '"registry"."people"')
    assert [n for n in names if n in people], "the dump scan saw no names at all"
    for table, line in stored:
        for number in identity_numbers:
            assert number not in line, f"{table} holds an identity number"
            assert number.encode().hex() not in line, f"{table} holds an identity number as bytes"
        if table != '"registry"."people"':
            assert not [n for n in names if n in line and len(n) > 2], f"{table} holds a name"


async def test_every_staff_read_of_personal_data_is_audited(infra: InfraSettings) -> None:
    from services.registry.commands import grant_role

    async with platform(infra) as client:
        admin = await Person(client, "審計館", mainland_id(born_years_ago(40))).register()
        venue = await admin.call(
            "POST", "/api/registry/v1/venues", json={"region_code": "440106", "name": "審計測試館"}
        )
        assert venue.status_code == 201, venue.text
        inspector = await Person(client, "審計員", mainland_id(born_years_ago(30))).register()
        bound = await inspector.call(
            "POST",
            "/api/registry/v1/inspector-bindings",
            json={"declaration_code": venue.json()["declaration_code"]},
        )
        assert bound.status_code == 201
        elder = await Person(client, "審計伯", mainland_id(born_years_ago(80))).register()
        epidemiologist = await Person(client, "審計流", mainland_id(born_years_ago(35))).register()
        await grant_role(infra, epidemiologist.id_number, "epidemiologist")
        await epidemiologist.sign_in()

        async def verified() -> bool:
            code = await elder.call("GET", "/api/status/v1/health-code")
            if code.status_code != 200:
                return False
            answer = await inspector.call(
                "POST", "/api/status/v1/health-codes/verify", json={"token": code.json()["token"]}
            )
            return answer.status_code == 200

        await eventually(verified, timeout_s=30)
        looked_up = await inspector.call(
            "POST", "/api/status/v1/assisted-lookups", json={"name": elder.name, "id_number": elder.id_number}
        )
        assert looked_up.status_code == 200, looked_up.text

        now = datetime.now(UTC)
        window = {
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
        }
        venue_id = venue.json()["venue_id"]
        presence = await epidemiologist.call(
            "GET", f"/api/tracing/v1/venues/{venue_id}/presence", params=window
        )
        assert presence.status_code == 200
        query = await epidemiologist.call(
            "POST", "/api/tracing/v1/contact-queries", json={"person_id": elder.person_id, **window}
        )
        assert query.status_code == 201
        query_id = query.json()["query_id"]
        exported = await epidemiologist.call("GET", f"/api/tracing/v1/contact-queries/{query_id}.csv")
        assert exported.status_code == 200

    conn = await asyncpg.connect(infra.postgres.url)
    try:
        verify = await conn.fetch(
            "SELECT inspector_id, person_id, result FROM status.verify_audit WHERE result = 'shown'"
        )
        lookup = await conn.fetch("SELECT caller_id, person_id, result FROM status.lookup_audit")
        tracing = await conn.fetch("SELECT actor_id, action, query_id FROM tracing.audit_log")
    finally:
        await conn.close()
    assert (uuid.UUID(inspector.person_id), uuid.UUID(elder.person_id)) in {
        (r["inspector_id"], r["person_id"]) for r in verify
    }
    assert (uuid.UUID(inspector.person_id), uuid.UUID(elder.person_id), "found") in {
        (r["caller_id"], r["person_id"], r["result"]) for r in lookup
    }
    actions = {(r["actor_id"], r["action"]) for r in tracing}
    actor = uuid.UUID(epidemiologist.person_id)
    for action in ("presence_query", "contact_query", "export"):
        assert (actor, action) in actions, (action, actions)
