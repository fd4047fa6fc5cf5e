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
from shared.auth import AccessTokens
from shared.keys import Keys, load_keys
from shared.pii import Vault
from shared.settings import InfraSettings
from shared.tokens import TokenSigner


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
        await kafka.ensure_topics(infra.kafka, topics)
        metrics.declare_dead_letter_topics(topics)
        checks = {"redis": lambda: cache.ping(redis), "kafka": lambda: kafka.ping(router)}
        if pool is not None:
            checks["postgres"] = lambda: _pg_ok(pool)
        app.state.readiness = checks
        yield Runtime(infra, keys, pool, redis, router)
    finally:
        await redis.aclose()
        if pool is not None:
            await pool.close()


async def _pg_ok(pool: asyncpg.Pool) -> bool:
    try:
        await db.ping(pool)
    except Exception:
        return False
    return True
