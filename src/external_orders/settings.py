"""Process settings, read from ``EXTERNAL_ORDERS_*`` environment variables.

SAN6 settings are not here: they live in the ``system_config`` table so that
operators manage them like the shop's own (see ``domain.san6_config``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXTERNAL_ORDERS_", extra="ignore")

    database_url: str = "sqlite:///./var/external-orders.db"
    order_source: Literal["files", "shopware"] = "files"
    order_dir: Path = Path("./var/orders")
    log_dir: Path = Path("./var/log")
    app_secret: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8000"

    shopware_url: str | None = None
    shopware_client_id: str | None = None
    shopware_client_secret: SecretStr | None = None

    retry_batch_size: int = Field(default=20, ge=1, le=1000)
    retry_concurrency: int = Field(default=4, ge=1, le=64)

    @cached_property
    def log_file(self) -> Path:
        return self.log_dir / "external-orders.log"

    def secret_values(self) -> list[str]:
        """Every secret of the process, for log redaction."""
        secrets = [self.app_secret, self.shopware_client_secret]
        return [s.get_secret_value() for s in secrets if s and s.get_secret_value()]
