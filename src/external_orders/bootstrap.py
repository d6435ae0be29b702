"""The composition root: builds the service's parts from ``Settings``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sqlalchemy as sa

from external_orders.adapters.db.engine import create_database_engine
from external_orders.adapters.db.exports import ExportStore
from external_orders.adapters.db.integrations import IntegrationStore, SecretHasher
from external_orders.adapters.db.system_config import ConfigStore
from external_orders.adapters.db.tasks import TaskStore
from external_orders.adapters.orders.files import FileOrderSource
from external_orders.adapters.orders.shopware import (
    ShopwareOrderSource,
    shopware_order_source,
)
from external_orders.adapters.san6.client import San6Client
from external_orders.adapters.signing import UrlSigner
from external_orders.clock import Clock, SystemClock
from external_orders.domain.san6_config import SECRET_KEYS
from external_orders.logs import register_secrets
from external_orders.metrics import ExportMetrics
from external_orders.services.alerts import AlertService, alert_service
from external_orders.services.auth import Authenticator, TokenCodec, signing_key
from external_orders.services.export import Exporter
from external_orders.services.kpi import KpiService, kpi_service
from external_orders.services.ports import OrderSource
from external_orders.settings import Settings


@dataclass
class Services:
    """Lazily built parts; one instance per process (or per test)."""

    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        register_secrets(self.settings.secret_values())

    @cached_property
    def engine(self) -> sa.Engine:
        return create_database_engine(self.settings.database_url)

    @cached_property
    def exports(self) -> ExportStore:
        return ExportStore(self.engine, self.clock)

    @cached_property
    def scheduled_tasks(self) -> TaskStore:
        return TaskStore(self.engine, self.clock)

    @cached_property
    def config(self) -> ConfigStore:
        return _SecretRegisteringConfigStore(self.engine, self.clock)

    @cached_property
    def orders(self) -> OrderSource:
        if self.settings.order_source == "shopware":
            return shopware_order_source(self.settings, self.clock)
        return self.file_orders

    @cached_property
    def file_orders(self) -> FileOrderSource:
        return FileOrderSource(self.settings.order_dir)

    @cached_property
    def san6(self) -> San6Client:
        return San6Client()

    @cached_property
    def signer(self) -> UrlSigner | None:
        secret = self.settings.app_secret
        if secret is None or not secret.get_secret_value():
            return None
        return UrlSigner(secret.get_secret_value(), self.clock)

    @cached_property
    def exporter(self) -> Exporter:
        exporter = Exporter(
            store=self.exports,
            config=self.config,
            orders=self.orders,
            san6=self.san6,
            clock=self.clock,
            signer=self.signer,
            public_url=self.settings.public_url,
        )
        self.metrics.watch(exporter)
        return exporter

    @cached_property
    def kpis(self) -> KpiService:
        return kpi_service(self.settings, self.engine, self.clock)

    @cached_property
    def alerts(self) -> AlertService:
        return alert_service(self.settings, self.engine, self.clock, self.kpis)

    @cached_property
    def metrics(self) -> ExportMetrics:
        return ExportMetrics(self.kpis)

    @cached_property
    def integrations(self) -> IntegrationStore:
        return IntegrationStore(self.engine, self.clock, SecretHasher())

    @cached_property
    def auth(self) -> Authenticator:
        secret = self.settings.app_secret
        key = signing_key(secret.get_secret_value() if secret else None)
        return Authenticator(self.integrations, TokenCodec(key, self.clock))

    def close(self) -> None:
        orders = self.__dict__.get("orders")
        if isinstance(orders, ShopwareOrderSource):
            orders.close()
        if "san6" in self.__dict__:
            self.san6.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


class _SecretRegisteringConfigStore(ConfigStore):
    """Registers the stored SAN6 secret for log redaction whenever it is read."""

    def all(self) -> dict[str, str]:
        values = super().all()
        register_secrets(values.get(key) for key in SECRET_KEYS)
        return values
