"""services.checkin.lane: the scans of one moment share a pipeline, each gets its own results."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from redis.asyncio import Redis as RealRedis

from services.checkin.lane import Lane
from shared.cache import CACHE_ERRORS, CLUSTER_PIPELINE_TIMEOUTS, create_redis, without_read_timeouts
from shared.settings import RedisSettings


class Pipe:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.commands: list[tuple[str, ...]] = []

    def __len__(self) -> int:
        return len(self.commands)

    def get(self, key: str) -> None:
        self.commands.append(("GET", key))

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        assert raise_on_error is False  # one scan's error reply must not fail the others
        self.redis.sent.append(self.commands)
        await self.redis.gate.wait()
        if self.redis.down:
            raise ConnectionError("refused")
        return [ValueError("WRONGTYPE") if key == "bad" else f"value of {key}" for _, key in self.commands]


class Redis:
    """A Redis of our own: records every pipeline it is sent; ``gate`` holds the answers back."""

    def __init__(self) -> None:
        self.sent: list[list[tuple[str, ...]]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.down = False

    @asynccontextmanager
    async def pipeline(self, transaction: bool = True) -> AsyncIterator[Pipe]:
        yield Pipe(self)


def gets(*keys: str) -> Any:
    def queue(pipe: Pipe) -> None:
        for key in keys:
            pipe.get(key)

    return queue


async def test_scans_of_one_moment_share_a_pipeline_and_get_their_own_results() -> None:
    redis = Redis()
    lane = Lane(redis)  # type: ignore[arg-type]
    a, b, c = lane.send(gets("a1", "a2")), lane.send(gets("bad")), lane.send(gets("c1"))
    assert await a == ["value of a1", "value of a2"]
    [error] = await b
    assert isinstance(error, ValueError)  # an error reply is that scan's alone
    assert await c == ["value of c1"]
    assert redis.sent == [[("GET", "a1"), ("GET", "a2"), ("GET", "bad"), ("GET", "c1")]]


async def test_while_a_pipeline_is_out_the_next_gathers() -> None:
    redis = Redis()
    redis.gate.clear()
    lane = Lane(redis)  # type: ignore[arg-type]
    first = lane.send(gets("1"))
    await asyncio.sleep(0.01)  # the first pipeline is out, its answer held back
    later = [lane.send(gets(str(i))) for i in range(2, 5)]
    await asyncio.sleep(0.01)
    assert len(redis.sent) == 1
    redis.gate.set()
    assert await first == ["value of 1"]
    assert [await f for f in later] == [["value of 2"], ["value of 3"], ["value of 4"]]
    assert [len(p) for p in redis.sent] == [1, 3]


async def test_a_connection_fault_fails_every_scan_of_the_batch() -> None:
    redis = Redis()
    redis.down = True
    lane = Lane(redis)  # type: ignore[arg-type]
    futures = [lane.send(gets("x")), lane.send(gets("y"))]
    for future in futures:
        with pytest.raises(ConnectionError):
            await future
    redis.down = False
    assert await lane.send(gets("z")) == ["value of z"]  # and the lane goes on


async def test_a_write_nobody_reads_back_is_dropped_quietly_on_a_fault() -> None:
    redis = Redis()
    redis.down = True
    lane = Lane(redis)  # type: ignore[arg-type]
    read, write = lane.send(gets("x")), lane.send(gets("y"), quiet=True)
    with pytest.raises(ConnectionError):
        await read
    assert await write == []


async def test_a_redis_that_never_answers_fails_the_pipeline_within_the_socket_timeout() -> None:
    """The lane's connections read without a timeout per reply; one timeout bounds the pipeline."""
    silent: list[asyncio.StreamWriter] = []

    async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.append(writer)  # takes the commands, answers nothing

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RealRedis.from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.2, retry=None)
    lane = Lane(client)
    try:
        futures = [lane.send(gets("a")), lane.send(gets("b"))]
        done, _ = await asyncio.wait(futures, timeout=2.0)
        assert len(done) == 2  # not left waiting on a silent server
        for future in futures:
            assert isinstance(future.exception(), CACHE_ERRORS)  # a cache fault: callers degrade
    finally:
        await lane.aclose()
        await client.aclose()
        for writer in silent:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_cluster_pipeline_is_bounded_as_a_whole_too() -> None:
    """A cluster client keeps its timeout per read, and the lane bounds its whole pipeline at a
    few of them: one pipeline that never came back held every later scan queued behind it."""
    client = create_redis(RedisSettings(url="redis://127.0.0.1:1/0", cluster=True, socket_timeout_s=0.3))
    try:
        same, bound = without_read_timeouts(client)
        assert same is client
        assert bound == pytest.approx(0.3 * CLUSTER_PIPELINE_TIMEOUTS)
        assert 1.0 < bound < 5.0  # past the client's own retries through a failover, well short of a hang
    finally:
        await client.aclose()
