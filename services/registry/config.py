"""Settings of the registry service: its own knobs under VENUECODE_REGISTRY_, infrastructure shared."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENUECODE_REGISTRY_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    # Issue 3: five wrong passwords for one identity within a minute answer 429.
    login_failures_allowed: int = 5
    login_failure_window_s: int = 60
    # Ages (who may be put under guardianship without an account) change at midnight here.
    timezone: str = "Asia/Shanghai"
    # How often the outbox relay looks for events a failed publish left unsent.
    outbox_relay_interval_s: float = 2.0
    # Issue 16: a signed-in phone stays signed in this long after its last use (refresh tokens).
    session_days: int = Field(default=30, ge=1, le=365)
    # How often refresh tokens that expired and sign-ins that ended over a day ago are deleted.
    session_prune_interval_s: float = 3600.0
