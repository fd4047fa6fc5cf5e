"""One Redis pipeline for the concurrent scans of a moment ("auto-pipelining").

Every scan makes two Redis round trips of its own: the claim before the answer, the "inside"
mark and the stored answer after it. Sent one pipeline per scan, each costs a socket write and
a read, with their system calls, event-loop wake-ups and redis-py's pipeline setup; under load
those were a large part of a scan's CPU (py-spy on the worker, README "Performance"). Here
the commands that scans queue during one turn of the event loop leave together, in one
pipeline, at the start of the next turn, and while one pipeline is out, the next batch
gathers until it is back (as a Kafka producer batches while a request is in flight): at low
load a batch is one scan (no waiting, one loop turn later), under load it is every scan that
reached Redis in the meantime. A scan waits at most for the pipeline already out, a Redis
round trip, before its own leaves.

Each scan gets back exactly the results of its own commands, in order; an error reply to one
of them is that scan's (``raise_on_error=False``), and a fault of the connection fails every
scan of the batch, as it would have failed each alone. On a Redis Cluster the pipeline is
split by slot and sent to the nodes in parallel by redis-py, exactly as a scan's own was.

One timeout bounds a whole pipeline (the client's socket timeout), not each reply: redis-py
arms and cancels a timer for every reply it reads, ~10 a scan, which cost ~5 % of the worker's
CPU under load (py-spy). The lane reads through a twin of the client without that per-reply
timeout (``shared.cache.without_read_timeouts``; a cluster client keeps its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from shared.cache import RedisClient, without_read_timeouts

# Queues one scan's commands on the shared pipeline.
Queue = Callable[[Any], None]


class Lane:
    def __init__(self, redis: RedisClient) -> None:
        self._redis, self._timeout_s = without_read_timeouts(redis)
        self._twin = self._redis is not redis
        self._batch: list[tuple[Queue, asyncio.Future[list[Any]], bool]] = []
        self._running: asyncio.Task[None] | None = None

    def send(self, queue: Queue, *, quiet: bool = False) -> asyncio.Future[list[Any]]:
        """Queue commands for the next pipeline; the future holds their results (an error reply
        as an exception instance) or the exception that failed the whole pipeline. ``quiet``: a
        write nobody reads back; a failed pipeline resolves it to no results instead."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        if not self._batch and self._running is None:
            loop.call_soon(self._flush)
        self._batch.append((queue, future, quiet))
        return future

    async def aclose(self) -> None:
        """Close the twin client's connections (the client it was made from is the caller's)."""
        if self._twin:
            await self._redis.aclose()

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if batch:
            self._running = asyncio.get_running_loop().create_task(self._execute(batch))
            self._running.add_done_callback(self._next)

    def _next(self, task: asyncio.Task[None]) -> None:
        """The pipeline is back: what gathered meanwhile leaves now (or, at shutdown, never)."""
        self._running = None
        if task.cancelled():
            batch, self._batch = self._batch, []
            for _, future, _ in batch:
                future.cancel()
            return
        self._flush()

    async def _execute(self, batch: list[tuple[Queue, asyncio.Future[list[Any]], bool]]) -> None:
        sizes: list[int] = []
        try:
            async with asyncio.timeout(self._timeout_s), self._redis.pipeline(transaction=False) as pipe:
                for queue, _, _ in batch:
                    before = len(pipe)
                    queue(pipe)
                    sizes.append(len(pipe) - before)
                results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:
            # A timeout of the whole pipeline arrives as TimeoutError, an OSError like redis-py's.
            cancelled = isinstance(exc, asyncio.CancelledError)
            for _, future, quiet in batch:
                if future.done():
                    continue
                if cancelled:
                    future.cancel()
                elif quiet:
                    future.set_result([])
                else:
                    future.set_exception(exc)
            if cancelled:
                raise
            return
        start = 0
        for (_, future, _), size in zip(batch, sizes, strict=True):
            if not future.done():
                future.set_result(results[start : start + size])
            start += size
