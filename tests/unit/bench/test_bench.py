"""The benchmark package's pure parts, its load generator on loopback, its bare app and its CLI wiring."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from services.bench import bare, contacts, parser
from services.bench.contacts_load import person_id, venue_id
from services.bench.env import Machine
from services.bench.ingest import event_of, rows
from services.bench.loadgen import TIMEOUT_S, closed_loop, json_post, json_put, open_loop
from services.bench.stats import fmt, median, percentile, ratio, table
from services.cli import parser as cli_parser
from services.tracing.models import CHECKIN_COLUMNS
from shared.auth import AccessTokens
from shared.events import CHECKIN_EVENT_ADAPTER, decode
from shared.keys import load_keys
from shared.settings import InfraSettings
from shared.tokens import TokenSigner

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


# No deadline: the machine's two cores are shared, and a slow example is not a wrong one.
@settings(deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1), st.floats(0, 1))
def test_percentile_is_one_of_the_values_and_ordered(values: list[float], fraction: float) -> None:
    found = percentile(values, fraction)
    assert found in values
    assert min(values) <= found <= max(values)
    assert percentile(values, 0.0) <= found <= percentile(values, 1.0)


def test_percentile_nearest_rank_and_empty() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert math.isnan(percentile([], 0.5))


def test_median_ratio_and_cells() -> None:
    assert median([3.0, math.nan, 1.0, 2.0]) == 2.0
    assert math.isnan(median([math.nan]))
    assert ratio(1.0, 4.0) == 0.25
    assert math.isnan(ratio(1.0, 0.0))
    assert fmt(1234.5) == "1,234"
    assert fmt(math.nan) == "-"
    assert fmt(12) == "12"


def test_table_aligns_columns() -> None:
    text = table([{"name": "raw", "rate": 1000.0}, {"name": "consumer", "rate": 12.5}])
    lines = text.splitlines()
    assert len(lines) == 4
    assert len({len(line) for line in lines}) == 1
    assert "1,000" in text
    assert "12.50" in text


def test_requests_are_well_formed_http() -> None:
    post = json_post("h", "/p", b'{"a":1}', {"X-Key": "v"})
    head, body = post.split(b"\r\n\r\n")
    assert head.startswith(b"POST /p HTTP/1.1\r\n")
    assert b"Content-Length: 7" in head
    assert b"X-Key: v" in head
    assert body == b'{"a":1}'
    assert json_put("h", "/p", b"{}", {}).startswith(b"PUT /p HTTP/1.1\r\n")


def test_ingest_rows_repeat_for_a_seed_and_are_valid_events() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    first = list(rows(7, 50, 5, 10, now))
    assert first == list(rows(7, 50, 5, 10, now))
    assert len({r[0] for r in first}) == 50  # checkin ids are unique
    key, value = event_of(first[0])
    event = decode(value, CHECKIN_EVENT_ADAPTER)
    assert key == str(first[0][2]).encode()
    assert tuple(getattr(event.data, c) for c in CHECKIN_COLUMNS) == first[0]


async def _http_server(status: int) -> tuple[asyncio.Server, int]:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_load_generator_counts_answers_on_loopback() -> None:
    server, port = await _http_server(201)
    try:

        def make(i: int) -> bytes:
            return json_post("127.0.0.1", "/", b"{}", {})

        closed = await closed_loop("127.0.0.1", port, make, 4, 0.3)
        assert closed.ok > 0
        assert closed.failures == 0
        opened = await open_loop("127.0.0.1", port, make, 200.0, 0.5, connections=4)
        assert opened.ok == 100
        assert opened.timeouts == 0
        assert opened.summary()["p50_ms"] >= 0
    finally:
        server.close()
        await server.wait_closed()


async def test_load_generator_counts_non_2xx_apart() -> None:
    server, port = await _http_server(429)
    try:
        step = await open_loop(
            "127.0.0.1", port, lambda i: json_post("h", "/", b"{}", {}), 100.0, 0.2, connections=2
        )
        assert step.ok == 0
        assert step.statuses == {429: 20}
        # Every request counts in the percentiles: a non-2xx at the timeout value (issue 13).
        summary = step.summary()
        assert summary["non_2xx"] == 20
        assert summary["p50_ms"] == summary["p99_ms"] == TIMEOUT_S * 1000
    finally:
        server.close()
        await server.wait_closed()


async def test_bare_app_parses_authenticates_and_answers_like_checkin(tmp_path: Path, serve: Serve) -> None:
    infra = InfraSettings(state_dir=tmp_path)
    keys = load_keys(infra)
    person, venue = uuid.uuid4(), uuid.uuid4()
    token = AccessTokens(keys.jwt, infra.jwt_audience, 60).issue(person, [])
    body = {"venue_token": TokenSigner(keys.tokens).venue_token(venue, 1)}
    async with serve(bare.create_app(infra)) as client:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"}
        answer = await client.post(bare.SCANS_PATH, json=body, headers=headers)
        assert answer.status_code == 201
        data = orjson.loads(answer.content)
        assert data["venue"]["venue_id"] == str(venue)
        assert data["checkins"][0]["person_id"] == str(person)
        assert answer.headers["x-content-type-options"] == "nosniff"  # the shared middleware ran
        assert (await client.post(bare.SCANS_PATH, json=body)).status_code == 401
        original = body["venue_token"]
        # A real change of one character (a fixed "AA" would sometimes equal the original).
        swapped = "B" if original[-2] == "A" else "A"
        tampered = {"venue_token": original[:-2] + swapped + original[-1]}
        assert (await client.post(bare.SCANS_PATH, json=tampered, headers=headers)).status_code == 422


def test_cli_passes_bench_options_through() -> None:
    args = cli_parser().parse_args(["bench", "ingest", "--count", "1000", "--runs", "1"])
    assert args.name == "ingest"
    assert args.options == ["--count", "1000", "--runs", "1"]
    parsed = parser().parse_args(["ingest", "--count", "1000", "--runs", "1"])
    assert parsed.count == 1000
    assert parsed.runs == 1
    assert parsed.out == "bench-results"
    checkin = parser().parse_args(["checkin", "--workers", "2"])
    assert checkin.workers == [2]
    assert checkin.runs == 3


def test_contacts_options_and_ids_agree_with_their_sql_form() -> None:
    parsed = parser().parse_args(["contacts", "--rows", "1000", "--reuse"])
    assert (parsed.rows, parsed.reuse, parsed.runs, parsed.days, parsed.seed) == (1000, True, 3, 21, 0.5)
    # Postgres's setseed takes -1 to 1: both ends, and nothing past them.
    assert parser().parse_args(["contacts", "--seed", "-1"]).seed == -1.0
    assert parser().parse_args(["contacts", "--seed", "1"]).seed == 1.0
    for outside in ("1.01", "-1.5"):
        with pytest.raises(SystemExit):
            parser().parse_args(["contacts", "--seed", outside])
    # The SQL builds '00000001' || lpad(to_hex(n), 24, '0') for venues, lpad(to_hex(n), 32, '0') for people.
    assert str(venue_id(255)) == "00000001-0000-0000-0000-0000000000ff"
    assert str(person_id(255)) == "00000000-0000-0000-0000-0000000000ff"
    assert venue_id(7) != person_id(7)


def test_contacts_summary_takes_medians_and_puts_http_beside_sql() -> None:
    def run(sql: float, http: float) -> dict[str, object]:
        rows = [
            {"query": q, "side": side, "p50_ms": ms, "p99_ms": 2 * ms, "mean_rows": 5.0}
            for q in contacts.QUERIES
            for side, ms in (("SQL", sql), ("HTTP", http))
        ]
        return {"rows": rows, "worker_rss_mb": []}

    summary = contacts.summarise([run(1.0, 2.0), run(2.0, 3.0), run(9.0, 4.0)])
    depth1 = {r["side"]: r for r in summary if r["query"] == "contacts depth 1"}
    assert depth1["SQL"]["p50_ms"] == 2.0
    assert depth1["HTTP"]["p99_ms"] == 6.0
    assert depth1["HTTP/SQL"]["p50_ms"] == 1.5


def test_a_phase_charges_each_party_its_cpu_per_query_and_floors_the_mean() -> None:
    from services.bench.contacts_phases import CpuSnapshot, cpu_per_query

    before = CpuSnapshot(api_s=10.0, backends={1: 5.0, 2: 1.0}, machine_busy_s=100.0, own_s=2.0, wall_s=0.0)
    # Backend 2 ended (its CPU is unknown), backend 3 began during the phase.
    after = CpuSnapshot(api_s=11.0, backends={1: 6.0, 3: 1.0}, machine_busy_s=105.0, own_s=2.5, wall_s=2.0)
    cost = cpu_per_query(before, after, queries=100, concurrency=16, cores=2)
    assert cost["api_cpu_ms"] == 10.0
    assert cost["pg_cpu_ms"] == 20.0
    assert cost["loadgen_cpu_ms"] == 5.0
    assert cost["other_cpu_ms"] == 15.0  # 5 s busy, less 1 + 2 + 0.5 s of ours
    assert cost["queries_per_s"] == 50.0
    assert cost["floor_mean_ms"] == 16 * (30.0 / 2)
    assert cost["mean_by_little_ms"] == 16 * 20.0
    # One API worker: when its CPU is more than half the total, it is the floor.
    heavy = CpuSnapshot(api_s=14.0, backends={1: 5.0}, machine_busy_s=105.0, own_s=2.0, wall_s=2.0)
    assert cpu_per_query(before, heavy, queries=100, concurrency=16, cores=2)["floor_mean_ms"] == 16 * 40.0


def test_cpu_time_of_a_process_is_read_from_proc() -> None:
    import os
    import time

    from services.bench.env import _cpu_s

    before = _cpu_s(os.getpid())
    end = time.process_time() + 0.05
    while time.process_time() < end:  # burn 50 ms of CPU
        pass
    assert _cpu_s(os.getpid()) - before >= 0.03


def test_ingest_repeats_send_a_share_again_later_and_count_what_went_out() -> None:
    from services.bench.ingest import REPEAT_AFTER, WithRepeats

    now = datetime.now(UTC)
    source = list(rows(3, 20_000, 50, 500, now))
    backlog = WithRepeats(iter(source), 0.1, 3)
    sent = list(backlog)
    assert backlog.sent == len(sent)
    assert {r[0] for r in sent} == {r[0] for r in source}  # every check-in, nothing new
    repeats = len(sent) - len(source)
    assert 1_600 < repeats < 2_400  # ~10 %
    first_seen: dict[object, int] = {}
    for position, row in enumerate(sent):
        if row[0] in first_seen:
            assert row == sent[first_seen[row[0]]]  # the same check-in, same time: a retry
            assert position - first_seen[row[0]] >= REPEAT_AFTER or position > len(source)
        else:
            first_seen[row[0]] = position
    assert list(WithRepeats(iter(source), 0.1, 3)) == sent  # reproducible


def test_a_machine_carries_its_yardstick_into_the_results() -> None:
    machine = Machine.now()
    machine.finish()
    recorded = machine.as_json()
    # A million additions: more than nothing, and far less than the ten seconds of a stuck machine.
    assert 0 < recorded["yardstick_ms"] == machine.yardstick_ms < 10_000
    assert recorded["cpus"] == machine.cpus >= 1
