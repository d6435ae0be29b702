"""Process settings, read from ``EXTERNAL_ORDERS_*`` environment variables.

SAN6 settings are not here: they live in the ``system_config`` table so that
operators manage them like the shop's own (see ``domain.san6_config``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _comma_separated(value: object) -> object:
    # `open,in_progress` in the environment; a list when built in code.
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


CommaSeparated = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)]


def _http_url(value: str) -> str:
    """An http(s) URL with a host, without a trailing slash (links start with it)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http or https URL, e.g. https://orders.example")
    return value.strip().rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXTERNAL_ORDERS_", extra="ignore")

    database_url: str = "sqlite:///./var/external-orders.db"
    order_source: Literal["files", "shopware"] = "files"
    order_dir: Path = Path("./var/orders")
    log_dir: Path = Path("./var/log")
    app_secret: SecretStr | None = None
    public_url: Annotated[str, AfterValidator(_http_url)] = "http://127.0.0.1:8000"

    shopware_url: str | None = None
    shopware_client_id: str | None = None
    shopware_client_secret: SecretStr | None = None
    shopware_timeout: float = Field(default=10.0, gt=0, le=300)

    # Which new orders export_new takes (services.new_orders.Qualification).
    # Empty order states: every state but cancelled; empty others: any.
    new_orders_order_states: CommaSeparated = ()
    new_orders_payment_states: CommaSeparated = ()
    new_orders_sales_channel_ids: CommaSeparated = ()
    new_orders_test_tag: str = "test"
    new_orders_test_custom_field: str = "externalOrdersTestOrder"
    new_orders_page_size: int = Field(default=100, ge=1, le=500)
    new_orders_lookback_seconds: int = Field(default=60, ge=0, le=7 * 86400)
    new_orders_max_per_run: int = Field(default=1000, ge=1)
    export_new_interval: int = Field(default=60, ge=1)

    retry_batch_size: int = Field(default=20, ge=1, le=1000)
    retry_concurrency: int = Field(default=4, ge=1, le=64)
    # The retry task (services.retry, services.scheduler). The interval is the
    # one `db upgrade` registers first; `task interval` changes it afterwards.
    export_retry_interval: int = Field(default=60, ge=1)
    # Run again at once while a full batch leaves due retries (drains a backlog).
    retry_drain: bool = True
    # A processing attempt older than this was interrupted; None: 2 x the SAN6
    # timeout + 60 s.
    processing_stale_seconds: float | None = Field(default=None, gt=0)
    worker_poll_seconds: float = Field(default=5.0, gt=0, le=300)
    task_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Test hook only: the worker's clock runs ahead by the seconds in this file.
    clock_offset_file: Path | None = None

    # KPIs and alerts (runbook sections 3 and 6; services.kpi, services.alerts).
    kpi_window_minutes: int = Field(default=15, ge=1, le=1440)
    kpi_failed_exports_warning: float = Field(default=10, ge=0)
    kpi_failed_exports_critical: float = Field(default=30, ge=0)
    kpi_retry_pending_warning: float = Field(default=20, ge=0)
    kpi_retry_pending_critical: float = Field(default=100, ge=0)
    kpi_oldest_retry_age_warning: float = Field(default=15, ge=0)
    kpi_oldest_retry_age_critical: float = Field(default=30, ge=0)
    kpi_failure_rate_warning: float = Field(default=5, ge=0, le=100)
    kpi_failure_rate_critical: float = Field(default=15, ge=0, le=100)
    alert_overdue_minutes: int = Field(default=10, ge=0, le=1440)
    alert_outage_minutes: int = Field(default=15, ge=0, le=1440)
    alert_repeat_minutes: int = Field(default=60, ge=1, le=7 * 1440)
    alert_check_interval: int = Field(default=60, ge=1)
    dashboard_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "external-orders@localhost"
    smtp_to: CommaSeparated = ()
    smtp_timeout: float = Field(default=10.0, gt=0, le=120)
    slack_webhook_url: SecretStr | None = None
    slack_channel: str = "#incident-topm"
    slack_timeout: float = Field(default=5.0, gt=0, le=120)

    @cached_property
    def log_file(self) -> Path:
        return self.log_dir / "external-orders.log"

    def secret_values(self) -> list[str]:
        """Every secret of the process, for log redaction."""
        secrets = [self.app_secret, self.shopware_client_secret]
        secrets += [self.smtp_password, self.slack_webhook_url]
        return [s.get_secret_value() for s in secrets if s and s.get_secret_value()]
