"""The KPIs of runbook section 3: their names, thresholds and levels.

A KPI is a number read from ``external_order_export`` (see
``services.kpi``); its *level* says how bad the number is against the
KPI's two thresholds. Whether a threshold is crossed at the value itself
(``>=``) or only above it (``>``) is the runbook's choice per KPI, not a
setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum

FAILED_EXPORTS_TOTAL = "failed_exports_total"
RETRY_PENDING_TOTAL = "retry_pending_total"
OLDEST_RETRY_AGE_MINUTES = "oldest_retry_age_minutes"
FAILURE_RATE_PCT = "failure_rate_pct"
RETRY_BACKLOG = "retry_backlog"
OVERDUE_RETRY_BACKLOG = "overdue_retry_backlog"
SAN6_CONFIG_INVALID_TOTAL = "san6_config_invalid_total"
"""Attempts of the window closed for invalid SAN6 settings (runbook 3.3)."""

FAILED_STATUSES = ("failed", "retry_scheduled", "failed_permanent")
"""The statuses ``failed_exports_total`` and ``failure_rate_pct`` count."""

INVALID_CONFIG_PREFIX = "invalid SAN6 config:"
"""How ``last_error`` begins on an attempt closed for invalid SAN6 settings."""


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Level.OK: 0, Level.WARNING: 1, Level.CRITICAL: 2}


class Comparison(Enum):
    """How a value is held against a threshold."""

    AT_LEAST = ">="
    ABOVE = ">"

    def crossed(self, value: float, threshold: float) -> bool:
        if self is Comparison.AT_LEAST:
            return value >= threshold
        return value > threshold


@dataclass(frozen=True)
class Thresholds:
    """A KPI's warning and critical thresholds; None: the level does not exist."""

    comparison: Comparison
    warning: float | None
    critical: float | None

    def level(self, value: float) -> Level:
        if self.critical is not None and self.comparison.crossed(value, self.critical):
            return Level.CRITICAL
        if self.warning is not None and self.comparison.crossed(value, self.warning):
            return Level.WARNING
        return Level.OK

    def threshold(self, level: Level) -> float | None:
        """The threshold of ``level``; for ``ok``, the first one that exists."""
        if level is Level.CRITICAL:
            return self.critical
        if level is Level.WARNING or self.warning is not None:
            return self.warning
        return self.critical


@dataclass(frozen=True)
class KpiValue:
    name: str
    value: float
    thresholds: Thresholds

    @property
    def level(self) -> Level:
        return self.thresholds.level(self.value)


@dataclass(frozen=True)
class KpiSnapshot:
    """Every KPI at one moment, over a window of ``window_minutes``."""

    at: datetime
    window_minutes: int
    attempts_in_window: int
    values: dict[str, KpiValue]

    def __getitem__(self, name: str) -> KpiValue:
        return self.values[name]

    def value(self, name: str) -> float:
        return self.values[name].value


def failure_rate_pct(failed: int, total: int) -> float:
    """Failed attempts over all attempts, x 100, two decimals; 0 with none."""
    if total == 0:
        return 0.0
    return round(100.0 * failed / total, 2)


def age_minutes(oldest: datetime | None, now: datetime) -> float:
    """How many minutes ago ``oldest`` was, two decimals; 0 for None or later."""
    if oldest is None or oldest >= now:
        return 0.0
    return round((now - oldest).total_seconds() / 60, 2)
