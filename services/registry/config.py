"""Settings of the registry service: its own knobs under VENUECODE_REGISTRY_, infrastructure shared."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENUECODE_REGISTRY_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
