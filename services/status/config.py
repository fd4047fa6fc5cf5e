"""Settings of the status service: its own knobs under VENUECODE_STATUS_, infrastructure shared."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENUECODE_STATUS_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
