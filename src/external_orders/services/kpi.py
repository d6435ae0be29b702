"""The KPIs of runbook section 3, computed in one place, at the clock's now.

Two of them differ on purpose from the runbook's 3.0 query, which counted
pending retries and the oldest retry only among rows *created* in the last
15 minutes (so a stalled retry task, whose rows grow old, never raised
them): ``retry_pending_total`` counts every ``retry_scheduled`` row, and
``oldest_retry_age_minutes`` measures how late the most overdue one is.
``failed_exports_total`` counts every failed outcome of the window
(``failed``, ``retry_scheduled``, ``failed_permanent``), as 3.1 does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from external_orders.adapters.db.kpis import KpiStore
from external_orders.clock import Clock
from external_orders.domain import kpi
from external_orders.domain.kpi import Comparison, KpiSnapshot, KpiValue, Thresholds
from external_orders.settings import Settings


@dataclass(frozen=True)
class KpiThresholds:
    """The thresholds of every KPI; the defaults are the runbook's."""

    failed_exports: Thresholds
    retry_pending: Thresholds
    oldest_retry_age: Thresholds
    failure_rate: Thresholds
    overdue: Thresholds
    config_invalid: Thresholds

    @classmethod
    def from_settings(cls, settings: Settings) -> KpiThresholds:
        above = Comparison.ABOVE
        return cls(
            failed_exports=Thresholds(
                Comparison.AT_LEAST,
                settings.kpi_failed_exports_warning,
                settings.kpi_failed_exports_critical,
            ),
            retry_pending=Thresholds(
                above,
                settings.kpi_retry_pending_warning,
                settings.kpi_retry_pending_critical,
            ),
            oldest_retry_age=Thresholds(
                above,
                settings.kpi_oldest_retry_age_warning,
                settings.kpi_oldest_retry_age_critical,
            ),
            failure_rate=Thresholds(
                above,
                settings.kpi_failure_rate_warning,
                settings.kpi_failure_rate_critical,
            ),
            # Runbook 3.2 and 3.3: any overdue retry, any invalid-config attempt.
            overdue=Thresholds(above, 0.0, None),
            config_invalid=Thresholds(above, None, 0.0),
        )


class KpiService:
    """Reads the KPIs; every call queries the database anew (no cache)."""

    def __init__(
        self, store: KpiStore, clock: Clock, thresholds: KpiThresholds, window: int
    ) -> None:
        self.store = store
        self.clock = clock
        self.thresholds = thresholds
        self.window_minutes = window

    def snapshot(self) -> KpiSnapshot:
        now = self.clock.now()
        window = self.store.window_counts(now - timedelta(minutes=self.window_minutes))
        retries = self.store.retry_counts(now)

        limits = self.thresholds
        values = [
            KpiValue(kpi.FAILED_EXPORTS_TOTAL, window.failed, limits.failed_exports),
            KpiValue(kpi.RETRY_PENDING_TOTAL, retries.pending, limits.retry_pending),
            KpiValue(
                kpi.OLDEST_RETRY_AGE_MINUTES,
                kpi.age_minutes(retries.oldest_due, now),
                limits.oldest_retry_age,
            ),
            KpiValue(
                kpi.FAILURE_RATE_PCT,
                kpi.failure_rate_pct(window.failed, window.total),
                limits.failure_rate,
            ),
            KpiValue(kpi.RETRY_BACKLOG, retries.pending, limits.retry_pending),
            KpiValue(kpi.OVERDUE_RETRY_BACKLOG, retries.overdue, limits.overdue),
            KpiValue(
                kpi.SAN6_CONFIG_INVALID_TOTAL,
                window.invalid_config,
                limits.config_invalid,
            ),
        ]
        return KpiSnapshot(
            at=now,
            window_minutes=self.window_minutes,
            attempts_in_window=window.total,
            values={value.name: value for value in values},
        )


def kpi_service(settings: Settings, engine: sa.Engine, clock: Clock) -> KpiService:
    """The KPIs with the window and thresholds of ``settings``."""
    thresholds = KpiThresholds.from_settings(settings)
    return KpiService(KpiStore(engine), clock, thresholds, settings.kpi_window_minutes)
