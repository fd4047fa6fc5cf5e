"""The Redis client every service uses (one server or a Redis Cluster), its errors and key naming."""

from __future__ import annotations

from redis.asyncio import ConnectionPool, Redis, RedisCluster
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry

from shared.settings import RedisSettings

# One Redis or a cluster: the services use only commands both answer alike (keys of one command,
# pipeline step or script share a hash tag, see docs/redis.md).
RedisClient = Redis | RedisCluster

# Everything that means "the cache is unavailable right now": a refused or timed-out connection,
# an error reply, and the cluster's own faults. RedisClusterException (slots not covered, MOVED or
# ASK redirections exhausted during a resharding) is not a RedisError; ClusterDownError and
# TryAgainError (failover, migrating slots) are. Callers degrade on these exactly as on a down Redis.
# AttributeError too: redis-py 8's cluster client, when a killed master's connections are torn
# down while another task is writing on one of them, raises "'NoneType' object has no attribute
# 'writelines'" (seen here in tests/faults/test_redis_failover.py). Every use of this tuple wraps
# only Redis calls, so it hides no bug of ours.
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError, AttributeError)

# A cluster client retries a failed command after refreshing its slot map (a failover moves a
# master): a few short tries, so that a scan in the gap degrades in well under a second.
CLUSTER_RETRIES = 3
# A cluster pipeline as a whole is bounded too, at this many of its socket timeouts: its own
# retries through a failover (a connect timeout, a slot-map refresh, backoff) fit well inside, and
# a pipeline that never comes back (seen once in tests/faults/test_redis_failover.py under a busy
# machine: no scan answered for 60 s after the promotion) fails its scans, which degrade as on a
# down Redis, instead of holding every scan queued behind it.
CLUSTER_PIPELINE_TIMEOUTS = 8


def create_redis(settings: RedisSettings) -> RedisClient:
    # Short socket timeouts: a check-in must not wait long on a cache that is down.
    if settings.cluster:
        return RedisCluster.from_url(
            settings.url,
            socket_timeout=settings.socket_timeout_s,
            socket_connect_timeout=settings.socket_timeout_s,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), CLUSTER_RETRIES),
        )
    return Redis.from_url(
        settings.url,
        socket_timeout=settings.socket_timeout_s,
        socket_connect_timeout=settings.socket_timeout_s,
        health_check_interval=30,
    )


def without_read_timeouts(redis: RedisClient) -> tuple[RedisClient, float | None]:
    """A twin of a one-Redis client whose connections read replies without a timeout each, and
    the timeout they had, for the caller to put around a whole pipeline instead.

    redis-py arms and cancels a timer for every reply it reads (``socket_timeout``): in a pipeline
    of many commands that is a timer per command where one bounds the round trip. A cluster
    client comes back as it is (its reads keep their own timeouts), with a bound for a whole
    pipeline (``CLUSTER_PIPELINE_TIMEOUTS`` of them); any other client as it is, with None.
    """
    if isinstance(redis, RedisCluster):
        per_read = redis.connection_kwargs.get("socket_timeout")
        return redis, None if per_read is None else per_read * CLUSTER_PIPELINE_TIMEOUTS
    if not isinstance(redis, Redis):
        return redis, None
    pool = redis.connection_pool
    # What the pool added for its own connections (a maintenance handler bound to it, the
    # original timeouts) is left for the twin's pool to make anew.
    settings = {
        k: v
        for k, v in pool.connection_kwargs.items()
        if k != "maint_notifications_pool_handler" and not k.startswith("orig_")
    }
    timeout_s = settings.pop("socket_timeout", None)
    twin = ConnectionPool(
        connection_class=pool.connection_class,
        max_connections=pool.max_connections,
        socket_timeout=None,
        **settings,
    )
    return Redis(connection_pool=twin), timeout_s


def tagged(tag: object) -> str:
    """A hash tag: keys that carry the same one live in the same cluster slot."""
    return "{" + str(tag) + "}"


class KeySpace:
    """Builds every Redis key of a service under the configured prefix."""

    def __init__(self, prefix: str, service: str) -> None:
        self._base = f"{prefix}{service}:"

    def __call__(self, *parts: object) -> str:
        return self._base + ":".join(str(p) for p in parts)


async def ping(redis: RedisClient) -> bool:
    try:
        return bool(await redis.ping())
    except Exception:
        return False
