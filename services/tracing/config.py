"""Settings of the tracing service: its own knobs under VENUECODE_TRACING_, infrastructure shared."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENUECODE_TRACING_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    # The reference system keeps check-ins for 21 days; older rows are dropped and never read.
    retention_days: int = Field(default=21, ge=1, le=366)
    # The audit log answers "who looked at whom" long after the check-ins are gone: two
    # years by default (a setting; it must outlive the check-ins it speaks of).
    audit_retention_days: int = Field(default=730, ge=1)
    # A batch is written with one COPY: ~5000 rows is ~60 ms of COPY at the ~85 k rows/s
    # measured here, and 200 ms bounds the delay a lone check-in waits for its batch.
    batch_max_records: int = Field(default=5000, ge=1)
    batch_timeout_ms: int = Field(default=200, ge=1)
    # Partitions are made this many days ahead, so a day's first check-in never waits for DDL.
    partitions_ahead_days: int = Field(default=7, ge=1, le=60)
    # Retention and partition upkeep run at start and then this often (an hour: a day
    # partition is dropped at most an hour after it passed the period).
    maintenance_interval_s: float = Field(default=3600.0, gt=0)
    # Empty: the service's one check-in consumer group. A name here makes a second group that
    # reads the whole topic again into this deployment's store, e.g. a tracing deployment
    # filling a new Citus store beside the running one (docs/operations.md); the key refuses
    # every check-in the store holds already.
    checkins_group: str = Field(default="", pattern=r"^[a-z0-9-]{0,40}$")
