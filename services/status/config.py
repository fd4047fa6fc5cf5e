"""Settings of the status service: its own knobs under VENUECODE_STATUS_, infrastructure shared."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import InfraSettings
from shared.tokens import HEALTH_CODE_TTL_S


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VENUECODE_STATUS_", extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    # How long a dynamic health-code token lives (see shared.tokens for why 60 s).
    health_code_ttl_s: int = HEALTH_CODE_TTL_S
    # How often the lifespan checks the colour cache's warm marker: a flushed Redis
    # shows "unknown" at check-in until the refill, so a few seconds at most.
    cache_check_interval_s: float = 3.0
    # Rows per pipelined refill round: big enough to amortise the round trip,
    # small enough that one round never holds Redis for long.
    refill_chunk: int = 1000
    # How often expired colours are recorded as green; reads already hide them at once.
    sweep_interval_s: float = 30.0
    sweep_batch: int = 500
    # How often the relay resends status events (status.changed, paper_code.issued) a failed publish left.
    outbox_relay_interval_s: float = 5.0
    # Sent outbox rows are kept this long (to answer "was this event ever sent?" when debugging
    # a consumer), then pruned by a job that runs this often.
    outbox_retention_s: float = 7 * 24 * 3600.0
    outbox_prune_interval_s: float = 3600.0
    # Assisted lookup caps per caller: the example numbers (10 a minute, 100 a day).
    lookup_per_minute: int = 10
    lookup_per_day: int = 100
    # "The day asked" for the 60-or-over / 16-or-under rule is a calendar day in the province.
    timezone: str = "Asia/Shanghai"
