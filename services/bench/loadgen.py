"""A small HTTP/1.1 load generator on raw asyncio streams with keep-alive connections.

httpx costs several times more CPU per request than the servers measured here,
and the load generator shares the machine's two cores with them, so requests
are written as prepared bytes and answers are read by their Content-Length.
Open-loop steps send at a target rate and time each request from when it was
due, not from when a connection was free, so a saturated server shows its
queueing delay (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.bench.stats import percentile

MakeRequest = Callable[[int], bytes]
# A request that has not been answered this long after the step ended counts as timed out.
GRACE_S = 5.0
# Connections opened for an open-loop step: enough that a few hundred ms of queueing at the
# highest rates measured here (~3 k req/s) never waits for a free connection on our side.
OPEN_LOOP_CONNECTIONS = 256
# A request that failed, never finished or answered non-2xx counts at this in the percentiles
# (issue 13: p99 counts every request): a phone that got no check-in waited at least this long.
TIMEOUT_S = 10.0


def json_post(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes of one keep-alive POST with a JSON body."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def json_put(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    return b"PUT" + json_post(host, path, body, headers)[4:]


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, data: bytes) -> int:
        """Send one request and read its whole answer; returns the status code."""
        self._writer.write(data)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await self._reader.readuntil(b"\r\n")).strip(), 16)
                await self._reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self._reader.readexactly(length)
        return status

    def close(self) -> None:
        self._writer.close()


@dataclass
class Step:
    """One load step: what was offered and what came back."""

    mode: str
    offered_rps: float
    duration_s: float
    latencies_s: list[float] = field(default_factory=list, repr=False)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0
    timeouts: int = 0
    elapsed_s: float = 0.0

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def achieved_rps(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def non_2xx(self) -> int:
        """Requests without a 2xx answer: other statuses, failures and those never answered."""
        return sum(self.statuses.values()) - self.ok + self.failures + self.timeouts

    def record(self, status: int, latency: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.latencies_s.append(latency if 200 <= status < 300 else TIMEOUT_S)

    def summary(self) -> dict[str, Any]:
        every = self.latencies_s + [TIMEOUT_S] * (self.failures + self.timeouts)
        return {
            "mode": self.mode,
            "offered_rps": self.offered_rps,
            "achieved_rps": self.achieved_rps,
            "p50_ms": percentile(every, 0.50) * 1000,
            "p99_ms": percentile(every, 0.99) * 1000,
            "non_2xx": self.non_2xx,
            "ok": self.ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": self.failures,
            "timeouts": self.timeouts,
            "elapsed_s": self.elapsed_s,
        }


async def closed_loop(host: str, port: int, make: MakeRequest, concurrency: int, duration_s: float) -> Step:
    """``concurrency`` connections, each sending its next request as soon as the last was answered."""
    step = Step("closed", float("nan"), duration_s)
    counter = iter(range(10**12))
    start = time.perf_counter()
    deadline = start + duration_s

    async def worker() -> None:
        connection = await Connection.open(host, port)
        try:
            while time.perf_counter() < deadline:
                data = make(next(counter))
                sent = time.perf_counter()
                try:
                    status = await connection.request(data)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    step.failures += 1
                    connection.close()
                    connection = await Connection.open(host, port)
                    continue
                step.record(status, time.perf_counter() - sent)
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    step.elapsed_s = time.perf_counter() - start
    return step


async def open_loop(
    host: str,
    port: int,
    make: MakeRequest,
    rate: float,
    duration_s: float,
    *,
    connections: int = OPEN_LOOP_CONNECTIONS,
) -> Step:
    """Requests due at ``rate`` a second for ``duration_s``; latency counts from when each was due."""
    step = Step("open", rate, duration_s)
    total = max(1, int(rate * duration_s))
    queue: asyncio.Queue[tuple[int, float]] = asyncio.Queue()
    pool = [await Connection.open(host, port) for _ in range(connections)]
    start = time.perf_counter()
    done = 0
    last = start

    async def produce() -> None:
        for i in range(total):
            due = start + i / rate
            ahead = due - time.perf_counter()
            if ahead > 0.001:  # sleeping less than a millisecond costs more than it is worth
                await asyncio.sleep(ahead)
            queue.put_nowait((i, due))

    async def worker(index: int) -> None:
        nonlocal done, last
        while True:
            i, due = await queue.get()
            try:
                status = await pool[index].request(make(i))
            except (OSError, asyncio.IncompleteReadError, ValueError):
                step.failures += 1
                pool[index].close()
                pool[index] = await Connection.open(host, port)
            else:
                last = time.perf_counter()
                step.record(status, last - due)
            finally:
                done += 1
                queue.task_done()

    workers = [asyncio.create_task(worker(i)) for i in range(connections)]
    try:
        await produce()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(queue.join(), timeout=GRACE_S + duration_s * 0.5)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for connection in pool:
            connection.close()
    step.timeouts = total - done
    step.elapsed_s = max(duration_s, last - start)
    return step
