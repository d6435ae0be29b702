"""The one ``Services`` of a CLI process, built on first use."""

from __future__ import annotations

from external_orders.bootstrap import Services
from external_orders.logs import configure_logging
from external_orders.settings import Settings

_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        settings = Settings()
        configure_logging(settings.log_dir)
        _services = Services(settings)
    return _services


def close_services() -> None:
    global _services
    if _services is not None:
        _services.close()
        _services = None
