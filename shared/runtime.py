"""What a service's lifespan opens and closes: keys, the Postgres pool with its migrations,
Redis, the topics, and the readiness checks that watch them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.kafka.fastapi import KafkaRouter

from shared import cache, db, kafka, metrics
from shared import topics as topic_admin
from shared.auth import AccessTokens
from shared.keys import Keys, load_keys
from shared.pii import Vault
from shared.settings import InfraSettings, KafkaSettings
from shared.tokens import TokenSigner
from shared.web import Check


@dataclass(frozen=True)
class Runtime:
    infra: InfraSettings
    keys: Keys
    pool: asyncpg.Pool | None
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
    schema: str | None,
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
    pool = None
    if schema is not None:
        pool = await db.create_pool(
            infra.postgres, reset_sessions=reset_sessions, server_settings=session_settings
        )
        if migrations is not None:
            await db.migrate(pool, schema, migrations)
    redis = cache.create_redis(infra.redis)
    try:
        checks: dict[str, Check] = {"redis": lambda: cache.ping(redis), "kafka": lambda: kafka.ping(router)}
        if infra.is_production:
            # Never created here (see shared.topics): the topic job made them, readiness checks them.
            checks["topics"] = TopicsReady(infra.kafka, topics)
        else:
            await kafka.ensure_topics(infra.kafka, topics)
        metrics.declare_dead_letter_topics(topics)
        if pool is not None:
            checks["postgres"] = lambda: _pg_ok(pool)
        app.state.readiness = checks
        yield Runtime(infra, keys, pool, redis, router)
    finally:
        await redis.aclose()
        if pool is not None:
            await pool.close()


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
