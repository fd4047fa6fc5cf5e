"""What a service's lifespan opens and closes: keys, the Postgres pool with its migrations,
Redis, the topics, and the readiness checks that watch them; and ``service``, the one way a
service's ``create_app`` puts its app together around them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg
from fastapi import APIRouter, FastAPI
from faststream.kafka.fastapi import KafkaRouter
from starlette.staticfiles import StaticFiles

from shared import cache, db, kafka, metrics
from shared import topics as topic_admin
from shared.asyncapi import contract
from shared.auth import AccessTokens
from shared.keys import Keys, load_keys
from shared.pii import Vault
from shared.settings import InfraSettings, KafkaSettings
from shared.tokens import TokenSigner
from shared.web import Check, service_app

S = TypeVar("S")


@dataclass(frozen=True)
class Runtime:
    infra: InfraSettings
    keys: Keys
    pool: asyncpg.Pool
    redis: cache.RedisClient
    router: KafkaRouter

    @property
    def vault(self) -> Vault:
        return Vault(self.keys.pii, self.keys.pii_hmac, self.keys.pii_previous)

    @property
    def signer(self) -> TokenSigner:
        return TokenSigner(self.keys.tokens)

    @property
    def redis_prefix(self) -> str:
        return self.infra.redis.key_prefix


@asynccontextmanager
async def open_runtime(
    app: FastAPI,
    infra: InfraSettings,
    *,
    router: KafkaRouter,
    schema: str,
    migrations: Path | None,
    topics: Sequence[str],
    reset_sessions: bool = True,
    session_settings: Mapping[str, str] | None = None,
) -> AsyncIterator[Runtime]:
    """Open everything a service needs, register readiness checks, and close it all on exit.

    ``reset_sessions`` and ``session_settings``: see ``shared.db.create_pool``.
    """
    keys = load_keys(infra)
    app.state.access_tokens = AccessTokens(keys.jwt, infra.jwt_audience, infra.access_token_ttl_s)
    pool = await db.create_pool(
        infra.postgres, reset_sessions=reset_sessions, server_settings=session_settings
    )
    if migrations is not None:
        await db.migrate(pool, schema, migrations)
    redis = cache.create_redis(infra.redis)
    try:
        checks: dict[str, Check] = {"redis": lambda: cache.ping(redis), "kafka": lambda: kafka.ping(router)}
        if router.broker.subscribers:
            checks["consumers"] = lambda: kafka.consuming(router)
        if infra.is_production:
            # Never created here (see shared.topics): the topic job made them, readiness checks them.
            checks["topics"] = TopicsReady(infra.kafka, topics)
        else:
            await kafka.ensure_topics(infra.kafka, topics)
        metrics.declare_dead_letter_topics(topics)
        checks["postgres"] = lambda: _pg_ok(pool)
        app.state.readiness = checks
        yield Runtime(infra, keys, pool, redis, router)
    finally:
        await redis.aclose()
        await pool.close()


def service(
    name: str,
    serve: Callable[[FastAPI, Runtime], AbstractAsyncContextManager[S]],
    *,
    infra: InfraSettings,
    package: Path,
    topics: Sequence[str],
    publishes: Sequence[str],
    routers: Sequence[APIRouter],
    subscribers: Callable[[KafkaRouter, Callable[[], S]], None] | None = None,
    reset_sessions: bool = True,
    session_settings: Mapping[str, str] | None = None,
) -> FastAPI:
    """The app of the service ``name``, whose package folder holds ``migrations/`` and ``static/``.

    Its lifespan opens the runtime (``open_runtime``: the schema is the service's name), enters
    ``serve(app, runtime)``, which builds the service's ``Services`` (and starts its jobs), and
    puts what it yields on ``app.state.services``, the app's only state of the service's own.
    The app serves its AsyncAPI contract (``publishes``), the Kafka router with the
    ``subscribers`` (given a function that returns the services once they are built), the
    ``routers`` and ``/<name>/static``.
    """
    router = kafka.make_router(infra.kafka, name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_runtime(
                app,
                infra,
                router=router,
                schema=name,
                migrations=package / "migrations",
                topics=topics,
                reset_sessions=reset_sessions,
                session_settings=session_settings,
            ) as runtime,
            serve(app, runtime) as services,
        ):
            app.state.services = services
            yield

    app = service_app(name, lifespan)
    contract(app, router, infra.kafka, name, publishes=publishes)
    if subscribers is not None:
        subscribers(router, lambda: app.state.services)
    app.include_router(router)
    for routes in routers:
        app.include_router(routes)
    app.mount(f"/{name}/static", StaticFiles(directory=package / "static"), name=f"{name}-static")
    return app


class TopicsReady:
    """A readiness check: the service's topics exist with at least their configured partitions.

    Asked until it passes once (topics do not shrink), so a pod is held back until the topic
    job has run, and readyz names what is missing.
    """

    def __init__(self, settings: KafkaSettings, names: Sequence[str]) -> None:
        self._settings = settings
        self._names = list(names)
        self._passed = False

    async def __call__(self) -> bool | str:
        if self._passed:
            return True
        try:
            problems = await topic_admin.check(self._settings, self._names)
        except Exception as exc:  # the broker away: readyz says so, the next probe asks again
            return f"cannot be checked ({type(exc).__name__})"
        if problems:
            return "; ".join(problems)
        self._passed = True
        return True


async def _pg_ok(pool: asyncpg.Pool) -> bool:
    try:
        await db.ping(pool)
    except Exception:
        return False
    return True
