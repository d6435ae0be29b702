"""``doctor``'s checks against real databases (SQLite, MariaDB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.domain import san6_config as keys
from external_orders.errors import OrderSourceUnavailable
from external_orders.services.doctor import CheckStatus, run_checks
from external_orders.services.scheduler import Scheduler
from external_orders.settings import Settings
from external_orders.simulators.san6 import SimulatorState


def by_name(services: Services) -> dict[str, tuple[CheckStatus, str]]:
    return {r.name: (r.status, r.message) for r in run_checks(services)}


@pytest.fixture
def ready(configured: Services) -> Services:
    Scheduler(configured).ensure_registered()
    return configured


def test_a_configured_installation_passes_every_check(ready: Services) -> None:
    """Database, time zone, SAN6 settings, tasks and order source are all ok."""
    results = by_name(ready)

    assert {name: status for name, (status, _) in results.items()} == {
        "database": CheckStatus.OK,
        "time zone": CheckStatus.OK,
        "SAN6 settings": CheckStatus.OK,
        "scheduled tasks": CheckStatus.OK,
        "order source": CheckStatus.OK,
    }
    assert "schema revision 0001" in results["database"][1]
    assert "post-xml" in results["SAN6 settings"][1]


def test_missing_san6_settings_fail_without_showing_the_secret(
    ready: Services, simulator: SimulatorState
) -> None:
    """A missing key is named; the stored secret appears nowhere."""
    ready.config.unset(keys.COMPANY)

    status, message = by_name(ready)["SAN6 settings"]

    assert status is CheckStatus.FAIL
    assert keys.COMPANY in message
    assert simulator.authentifizierung not in " ".join(
        r.message for r in run_checks(ready)
    )


def test_a_paused_or_late_task_is_a_warning(
    ready: Services, clock: FrozenClock
) -> None:
    """Paused retry task, or a task due long ago (no worker): warnings."""
    Scheduler(ready).pause("external_orders.export_retry")
    clock.advance(minutes=10)

    status, message = by_name(ready)["scheduled tasks"]

    assert status is CheckStatus.WARN
    assert "external_orders.export_retry is paused" in message
    assert "is a worker running?" in message


def test_a_database_without_tables_fails_and_skips_what_needs_it(
    tmp_path: Path,
) -> None:
    """A fresh database: 'run db upgrade', the database checks are skipped."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'empty.db'}",
        order_dir=tmp_path / "orders",
        log_dir=tmp_path / "log",
    )
    services = Services(settings)
    try:
        results = by_name(services)
    finally:
        services.close()

    assert results["database"][0] is CheckStatus.FAIL
    assert "run db upgrade" in results["database"][1]
    assert results["SAN6 settings"][0] is CheckStatus.SKIP
    assert results["order source"][0] is CheckStatus.OK


def test_an_unreachable_database_is_one_failed_check(tmp_path: Path) -> None:
    """A MariaDB that does not answer: the check fails, nothing raises."""
    settings = Settings(
        database_url="mysql+pymysql://root@127.0.0.1:1/none",
        order_dir=tmp_path / "orders",
        log_dir=tmp_path / "log",
    )
    services = Services(settings)
    try:
        status, message = by_name(services)["database"]
    finally:
        services.close()

    assert status is CheckStatus.FAIL
    assert "OperationalError" in message


class CheckedSource:
    """An order source with the optional ``check()`` of the Shopware source."""

    def __init__(self, problem: str | None) -> None:
        self.problem = problem

    def get(self, order_id: UUID) -> dict[str, Any]:
        raise OrderSourceUnavailable(order_id, "not used here")

    def check(self) -> str:
        if self.problem is not None:
            raise OrderSourceUnavailable(None, self.problem)
        return "Shopware answers, credentials accepted"


def test_the_order_source_check_is_called_when_the_source_has_one(
    ready: Services,
) -> None:
    """The source's own check() gives the line, or the failure it raised."""
    ready.orders = CheckedSource(None)
    assert by_name(ready)["order source"] == (
        CheckStatus.OK,
        "Shopware answers, credentials accepted",
    )

    ready.orders = CheckedSource("HTTP 401 from Shopware")
    status, message = by_name(ready)["order source"]
    assert status is CheckStatus.FAIL and "HTTP 401 from Shopware" in message
