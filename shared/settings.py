"""Settings every service shares: infrastructure URLs, keys and the public origin.

Only this module and each service's ``config.py`` read the environment.
Infrastructure is read with the ``VENUECODE_`` prefix (``VENUECODE_POSTGRES_URL``,
``VENUECODE_REDIS_URL``, ``VENUECODE_KAFKA_BOOTSTRAP``) so that one set of
variables serves all four services; each service adds its own prefix for its
own knobs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class PostgresSettings(BaseModel):
    url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    min_size: int = 1
    # Two cores per worker here: more connections than that only queue in Postgres.
    max_size: int = 10
    command_timeout_s: float = 30.0


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"
    # Every key a service writes starts with this, so tests and tenants can share a server.
    key_prefix: str = "vc:"
    socket_timeout_s: float = 0.5
    # True: ``url`` is the seed node of a Redis Cluster (redis.asyncio.RedisCluster).
    cluster: bool = False


class KafkaSettings(BaseModel):
    bootstrap: str = "127.0.0.1:9092"
    # Prepended to every topic and consumer group name: tests use a fresh one each.
    namespace: str = ""
    # tansu answers InitProducerId with UnknownError, so the idempotent producer is opt-in.
    idempotent_producer: bool = False
    # tansu answers a fetch only after fetch_max_wait_ms even with data waiting;
    # 10 ms gave 4.6 ms end-to-end p50 here against ~100 ms with the default 500.
    fetch_max_wait_ms: int = 10
    # For sparse topics (registry events, status events and commands) that only feed read
    # models: each idle consumer polls 1000/this times a second, and at 10 ms two of them
    # took ~8 % of a check-in worker's CPU under load (py-spy); 100 ms still delivers an
    # event within a tenth of a second.
    sparse_fetch_max_wait_ms: int = 100
    # Consumers send JoinGroup with this timeout too, and tansu answers a JoinGroup only
    # after about half the session timeout (5 s with aiokafka's 10 s default): at 5 s no
    # group with default settings ever joined. Publishing stays bounded by PUBLISH_TIMEOUT_S.
    request_timeout_ms: int = 15_000
    # 30 s outlives a broker restart or a leader election without a rebalance of every group
    # (a dead consumer's partitions wait that long to move on). On tansu a group joins only
    # after about half of it, so tests and `make run` set short sessions.
    session_timeout_ms: int = 30_000
    # A third of the session, as Kafka advises: two heartbeats may be lost before a member is.
    heartbeat_interval_ms: int = 10_000
    # A handler's batch (a tracing COPY of ~fetch_max_bytes) must finish within this, or the
    # member is dropped: 5 minutes covers a Postgres failover.
    max_poll_interval_ms: int = 300_000
    # Bounds one fetch's memory: 50 MB in all, 1 MB a partition (Kafka's defaults, explicit).
    fetch_max_bytes: int = 52_428_800
    max_partition_fetch_bytes: int = 1_048_576
    # Topics (``venuecode topics create``): every topic and .dlq twin has ``partitions`` unless
    # ``topic_partitions`` names it (un-namespaced). Production: check-ins 48 (up to 48 tracing
    # consumers), replication 3 with min.insync.replicas 2, so acks=all survives losing a broker.
    partitions: int = 4
    topic_partitions: dict[str, int] = Field(default_factory=dict)
    replication_factor: int = 1
    min_insync_replicas: int = 1

    def partitions_of(self, name: str) -> int:
        """The configured partition count of a topic, by its name without the namespace."""
        return self.topic_partitions.get(name, self.partitions)


# Session and heartbeat (ms) outside production: see InfraSettings.kafka_session_timeout_ms.
DEVELOPMENT_SESSION = (6_000, 1_500)


class InfraSettings(BaseSettings):
    """What every service needs to reach: read once from ``VENUECODE_*``."""

    model_config = SettingsConfigDict(env_prefix="VENUECODE_", env_nested_delimiter="__", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    postgres_url: str | None = None
    redis_url: str | None = None
    kafka_bootstrap: str | None = None
    kafka_namespace: str = ""
    kafka_idempotent_producer: bool = False
    # Broker request timeout. tansu answers a JoinGroup only after ~5.0 s (measured here), so
    # subscribers never join with 5 s; deployments and the gateway test set more (15-30 s).
    kafka_request_timeout_ms: int = KafkaSettings.model_fields["request_timeout_ms"].default
    # Unset: KafkaSettings' production timing in production; elsewhere (tansu, where a group
    # joins after half the session) Kafka's smallest allowed session, 6 s, and 1.5 s heartbeats.
    kafka_session_timeout_ms: int | None = None
    kafka_heartbeat_interval_ms: int | None = None
    kafka_max_poll_interval_ms: int = KafkaSettings.model_fields["max_poll_interval_ms"].default
    kafka_fetch_max_bytes: int = KafkaSettings.model_fields["fetch_max_bytes"].default
    kafka_max_partition_fetch_bytes: int = KafkaSettings.model_fields["max_partition_fetch_bytes"].default
    kafka_partitions: int = KafkaSettings.model_fields["partitions"].default
    # JSON: {"venuecode.checkins.v1": 48, ...}
    kafka_topic_partitions: dict[str, int] = Field(default_factory=dict)
    kafka_replication_factor: int = KafkaSettings.model_fields["replication_factor"].default
    kafka_min_insync_replicas: int = KafkaSettings.model_fields["min_insync_replicas"].default
    redis_key_prefix: str = "vc:"
    # VENUECODE_REDIS_CLUSTER=true: VENUECODE_REDIS_URL is the seed node of a Redis Cluster.
    redis_cluster: bool = False
    # Where development keys and embedded server data live.
    state_dir: Path = Path(".venuecode")
    # The origin printed on posters: the QR encodes {public_base_url}/c/{venue_token}.
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    # PEM-encoded Ed25519 private keys and a 32-byte hex key; in production they
    # must be given, in development they are generated once under state_dir/keys.
    jwt_private_key: SecretStr | None = None
    jwt_previous_public_keys: list[str] = Field(default_factory=list)
    token_private_key: SecretStr | None = None
    token_previous_public_keys: list[str] = Field(default_factory=list)
    pii_key: SecretStr | None = None
    # PII key rotation (docs/operations.md): previous cipher keys (hex) that still decrypt until
    # `venuecode rotate-pii-key` has re-encrypted everything, and the digest key (hex) pinned so
    # that digests do not change with the cipher key (unset: derived from VENUECODE_PII_KEY).
    pii_previous_keys: list[SecretStr] = Field(default_factory=list)
    pii_digest_key: SecretStr | None = None
    # Key rotation's overlap: tokens signed by a previous key verify until this instant and
    # then stop (unset: until the key is removed from the list). For the token keys, set it
    # no earlier than every paper code of the old key has been reprinted.
    jwt_previous_keys_until: AwareDatetime | None = None
    token_previous_keys_until: AwareDatetime | None = None
    # Short (issue 16): a page renews it with the 30-day refresh token, and a sign-out everywhere
    # leaves a stolen access token at most this long.
    access_token_ttl_s: int = 15 * 60
    jwt_audience: str = "venuecode"

    @property
    def postgres(self) -> PostgresSettings:
        return PostgresSettings(url=self.postgres_url) if self.postgres_url else PostgresSettings()

    @property
    def redis(self) -> RedisSettings:
        base = RedisSettings(key_prefix=self.redis_key_prefix, cluster=self.redis_cluster)
        return base.model_copy(update={"url": self.redis_url}) if self.redis_url else base

    @property
    def kafka(self) -> KafkaSettings:
        production = KafkaSettings.model_fields
        session, heartbeat = (
            (production["session_timeout_ms"].default, production["heartbeat_interval_ms"].default)
            if self.is_production
            else DEVELOPMENT_SESSION
        )
        base = KafkaSettings(
            namespace=self.kafka_namespace,
            idempotent_producer=self.kafka_idempotent_producer,
            request_timeout_ms=self.kafka_request_timeout_ms,
            session_timeout_ms=self.kafka_session_timeout_ms or session,
            heartbeat_interval_ms=self.kafka_heartbeat_interval_ms or heartbeat,
            max_poll_interval_ms=self.kafka_max_poll_interval_ms,
            fetch_max_bytes=self.kafka_fetch_max_bytes,
            max_partition_fetch_bytes=self.kafka_max_partition_fetch_bytes,
            partitions=self.kafka_partitions,
            topic_partitions=self.kafka_topic_partitions,
            replication_factor=self.kafka_replication_factor,
            min_insync_replicas=self.kafka_min_insync_replicas,
        )
        return base.model_copy(update={"bootstrap": self.kafka_bootstrap}) if self.kafka_bootstrap else base

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION
