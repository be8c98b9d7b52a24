"""Configuration, read once from ``YINLING_*`` environment variables (and ``.env``)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handlers.base import ServiceConfig

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every setting of a deployment; see README "Configuration"."""

    model_config = SettingsConfigDict(
        env_prefix="YINLING_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
    )

    database_url: str = "sqlite+aiosqlite:///./yinling.db"
    redis_url: str | None = None
    redis_prefix: str = "yl:"

    nlu: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str = "http://localhost:5005"
    nlu_cache: Path | None = None
    nlu_threshold: float = 0.45

    bureau: str = "市委老干部局"
    hotline: str = "0512-65000000"
    honorific: Literal["lao", "tongzhi"] = "lao"
    office_hours: str = "08:30-17:30"
    office_days: str = "1-5"
    flow_minutes: int = 30

    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        start, _, end = value.partition("-")
        time.fromisoformat(start.strip())
        time.fromisoformat(end.strip())
        return value

    def service_config(self) -> ServiceConfig:
        """The part of the settings handlers see."""
        start, _, end = self.office_hours.partition("-")
        first, _, last = self.office_days.partition("-")
        days = tuple(range(int(first), int(last or first) + 1))
        return ServiceConfig(
            bureau=self.bureau,
            hotline=self.hotline,
            honorific=self.honorific,
            office_open=time.fromisoformat(start.strip()),
            office_close=time.fromisoformat(end.strip()),
            office_days=days,
            flow_minutes=self.flow_minutes,
            confidence_threshold=self.nlu_threshold,
        )
