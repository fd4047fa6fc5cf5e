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

Scripts go by their SHA1 (EVALSHA, ``Script``): the body is not sent, nor hashed by Redis, with
every scan. A node that does not know a script (restarted, promoted by a failover, its scripts
flushed) answers NOSCRIPT without running it; those commands alone are sent again as EVAL, which
runs the script and caches it there, in a second pipeline before any scan gets its results.

One timeout bounds a whole pipeline (the client's socket timeout), not each reply: redis-py
arms and cancels a timer for every reply it reads, ~10 a scan, which cost ~5 % of the worker's
CPU under load (py-spy). The lane reads through a twin of the client without that per-reply
timeout (``shared.cache.without_read_timeouts``; a cluster client keeps its own, and its
whole pipeline is bounded at a few of them, so that one that never returns fails its scans).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import NoScriptError

from shared.cache import RedisClient, without_read_timeouts

# Queues one scan's commands on the shared pipeline.
Queue = Callable[[Any], None]


class Script:
    """A Lua script that the lane sends by its SHA1 (``Lane.script``)."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.sha = hashlib.sha1(body.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


# A script queued on a pipeline: its place there, the script, its keys and arguments.
_Queued = tuple[int, Script, Sequence[Any], Sequence[Any]]


class Lane:
    def __init__(self, redis: RedisClient) -> None:
        self._redis, self._timeout_s = without_read_timeouts(redis)
        self._twin = self._redis is not redis
        self._batch: list[tuple[Queue, asyncio.Future[list[Any]], bool]] = []
        self._running: asyncio.Task[None] | None = None
        self._scripts: list[_Queued] = []

    def script(self, pipe: Any, script: Script, keys: Sequence[Any], args: Sequence[Any]) -> None:
        """Queue ``script`` by its SHA1 on the pipeline that a ``Queue`` was given (and only there):
        its result is the script's, also when the node had to be taught it first."""
        self._scripts.append((len(pipe), script, keys, args))
        # By name: a cluster pipeline blocks its evalsha method (for its script loading), not the command.
        _ = pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)

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
            async with asyncio.timeout(self._timeout_s):
                async with self._redis.pipeline(transaction=False) as pipe:
                    self._scripts = []
                    for queue, _, _ in batch:
                        before = len(pipe)
                        queue(pipe)
                        sizes.append(len(pipe) - before)
                    scripts, self._scripts = self._scripts, []
                    results = await pipe.execute(raise_on_error=False)
                await self._teach(scripts, results)
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

    async def _teach(self, scripts: list[_Queued], results: list[Any]) -> None:
        """Send as EVAL the scripts that a node answered NOSCRIPT to (not run there), and put
        their results in their places."""
        unknown = [queued for queued in scripts if isinstance(results[queued[0]], NoScriptError)]
        if not unknown:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, script, keys, args in unknown:
                _ = pipe.eval(script.body, len(keys), *keys, *args)
            again = await pipe.execute(raise_on_error=False)
        for (place, _, _, _), result in zip(unknown, again, strict=True):
            results[place] = result
