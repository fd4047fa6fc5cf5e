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
    # Kafka's smallest allowed session (group.min.session.timeout.ms): a dead consumer's
    # partitions move on within 6 s, and on tansu a group joins in about half of it.
    session_timeout_ms: int = 6_000
    heartbeat_interval_ms: int = 1_500
    partitions: int = 4


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
    kafka_session_timeout_ms: int = KafkaSettings.model_fields["session_timeout_ms"].default
    kafka_heartbeat_interval_ms: int = KafkaSettings.model_fields["heartbeat_interval_ms"].default
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
    access_token_ttl_s: int = 8 * 3600
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
        base = KafkaSettings(
            namespace=self.kafka_namespace,
            idempotent_producer=self.kafka_idempotent_producer,
            request_timeout_ms=self.kafka_request_timeout_ms,
            session_timeout_ms=self.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.kafka_heartbeat_interval_ms,
        )
        return base.model_copy(update={"bootstrap": self.kafka_bootstrap}) if self.kafka_bootstrap else base

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION
