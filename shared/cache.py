"""The Redis client every service uses, and its key naming."""

from __future__ import annotations

from redis.asyncio import Redis

from shared.settings import RedisSettings


def create_redis(settings: RedisSettings) -> Redis:
    # Short socket timeouts: a check-in must not wait long on a cache that is down.
    return Redis.from_url(
        settings.url,
        socket_timeout=settings.socket_timeout_s,
        socket_connect_timeout=settings.socket_timeout_s,
        health_check_interval=30,
    )


class KeySpace:
    """Builds every Redis key of a service under the configured prefix."""

    def __init__(self, prefix: str, service: str) -> None:
        self._base = f"{prefix}{service}:"

    def __call__(self, *parts: object) -> str:
        return self._base + ":".join(str(p) for p in parts)


async def ping(redis: Redis) -> bool:
    try:
        return bool(await redis.ping())
    except Exception:
        return False
