"""Several apps' lifespans run side by side, as the services' own processes start and stop.

Each app's start waits about a second for its consumer groups to join tansu (``shared.kafka``);
one after another, the four of the platform took three of those. Each lifespan runs in a task
of its own (a lifespan is entered and left in the same task: FastStream's and anyio's scopes ask
for that); the block runs once every app has started, and leaving it stops them all at once.
The first failure to start or to stop is raised, as an exit stack would raise it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def all_running(apps: Sequence[FastAPI]) -> AsyncIterator[None]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = [loop.create_future() for _ in apps]

    async def run(app: FastAPI, ready: asyncio.Future[None]) -> None:
        async with app.router.lifespan_context(app):
            ready.set_result(None)
            await stop.wait()

    tasks = [asyncio.create_task(run(app, ready)) for app, ready in zip(apps, started, strict=True)]
    try:
        # Every app started, or the first that failed: its error, the others stopped below.
        waiting = {*started, *tasks}
        while not all(ready.done() for ready in started):
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in done & set(tasks):
                task.result()  # a lifespan that ended before the block: raise why
        yield
    finally:
        stop.set()
        for task, ready in zip(tasks, started, strict=True):
            if not ready.done():  # still starting when another failed: not waited for
                task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        # The cancelled starts' CancelledError is not an Exception: only real failures count.
        failures = [r for r in results if isinstance(r, Exception)]
        if failures:
            raise failures[0]
