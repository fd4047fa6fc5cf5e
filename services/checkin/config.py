"""Settings of the checkin service: its own knobs under VENUECODE_CHECKIN_, infrastructure shared."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENUECODE_CHECKIN_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    # How often each process reads checkin.changes to forget stale venues and families
    # (services/checkin/memory.py): a registry change reaches scans within this.
    readmodel_poll_s: float = 0.5
    # The registry and status read-model consumers. Off in the HTTP pods of a large deployment
    # (k8s: a small Deployment of their own runs them), so that every autoscaler step does not
    # rebalance the two groups; the read model is in Postgres, which every pod reads.
    readmodel_consumer: bool = True
