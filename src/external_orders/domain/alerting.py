"""Alert rules and the state machine that decides when to notify.

An *alert* watches one condition read from a KPI snapshot. Each check
gives an *observation* (a level, the value, the threshold crossed); the
state machine turns the stored state and the observation into the next
state and at most one *event* to notify:

- ``firing``: the condition held for the rule's ``hold`` and was not firing;
- ``escalated``: a firing warning became critical;
- ``repeat``: still critical, ``repeat_every`` after the last notification;
- ``resolved``: a firing alert's condition is gone.

A critical alert that falls back to warning stays firing at warning
without a notification; rising again to critical escalates again.
Pure: time comes in as ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from external_orders.domain import kpi
from external_orders.domain.kpi import KpiSnapshot, KpiValue, Level

PROLONGED_OUTAGE = "prolonged_outage"
SAN6_CONFIG_INVALID = "san6_config_invalid"


class Event(StrEnum):
    FIRING = "firing"
    ESCALATED = "escalated"
    REPEAT = "repeat"
    RESOLVED = "resolved"
    TEST = "test"


@dataclass(frozen=True)
class Rule:
    name: str
    hold: timedelta
    """How long the condition must last before the alert fires."""
    escalation: bool = False
    """The prolonged outage of runbook section 6: its text lists the steps."""


@dataclass(frozen=True)
class Observation:
    level: Level
    metric: str
    value: float
    threshold: float | None
    comparison: str


@dataclass(frozen=True)
class AlertState:
    """What is stored per alert between checks (table ``alert_state``)."""

    name: str
    severity: Level = Level.OK
    """The level the alert fires at; ``ok`` when it is not firing."""
    pending_since: datetime | None = None
    """Since when the condition holds (at any level); None when it does not."""
    fired_at: datetime | None = None
    last_notified_at: datetime | None = None
    value: float | None = None
    threshold: float | None = None
    version: int = 0
    """Bumped by every stored change; a write of a stale state is refused."""

    @property
    def firing(self) -> bool:
        return self.severity is not Level.OK


def rules(overdue_hold: timedelta, outage_hold: timedelta) -> list[Rule]:
    """The alerts of runbook sections 3 and 6, in notification order."""
    instant = timedelta(0)
    return [
        Rule(SAN6_CONFIG_INVALID, instant),
        Rule(kpi.FAILED_EXPORTS_TOTAL, instant),
        Rule(kpi.FAILURE_RATE_PCT, instant),
        Rule(kpi.RETRY_PENDING_TOTAL, instant),
        Rule(kpi.OLDEST_RETRY_AGE_MINUTES, instant),
        Rule(kpi.OVERDUE_RETRY_BACKLOG, overdue_hold),
        Rule(PROLONGED_OUTAGE, outage_hold, escalation=True),
    ]


def observe(rule: Rule, snapshot: KpiSnapshot) -> Observation:
    """What ``rule`` sees in ``snapshot``."""
    if rule.name == PROLONGED_OUTAGE:
        return _outage(snapshot)
    metric = (
        kpi.SAN6_CONFIG_INVALID_TOTAL if rule.name == SAN6_CONFIG_INVALID else rule.name
    )
    return _kpi_observation(snapshot[metric])


def _kpi_observation(value: KpiValue, level: Level | None = None) -> Observation:
    level = value.level if level is None else level
    return Observation(
        level=level,
        metric=value.name,
        value=value.value,
        threshold=value.thresholds.threshold(level),
        comparison=value.thresholds.comparison.value,
    )


def _outage(snapshot: KpiSnapshot) -> Observation:
    """Section 6: retry_pending_total or oldest_retry_age_minutes is critical."""
    pending = snapshot[kpi.RETRY_PENDING_TOTAL]
    oldest = snapshot[kpi.OLDEST_RETRY_AGE_MINUTES]
    for value in (pending, oldest):
        if value.level is Level.CRITICAL:
            return _kpi_observation(value, Level.CRITICAL)
    observation = _kpi_observation(pending, Level.OK)
    return replace(observation, threshold=pending.thresholds.critical)


def step(
    rule: Rule,
    state: AlertState,
    seen: Observation,
    now: datetime,
    repeat_every: timedelta,
) -> tuple[AlertState, Event | None]:
    """The state after ``seen`` at ``now``, and the event to notify, if any."""
    current = replace(state, value=seen.value, threshold=seen.threshold)
    if seen.level is Level.OK:
        if not state.firing:
            return replace(current, pending_since=None), None
        resolved = replace(
            current, severity=Level.OK, pending_since=None, last_notified_at=now
        )
        return resolved, Event.RESOLVED

    pending_since = state.pending_since or now
    current = replace(current, pending_since=pending_since)
    if now - pending_since < rule.hold:
        return current, None
    return _firing(current, seen.level, now, repeat_every)


def _firing(
    state: AlertState, level: Level, now: datetime, repeat_every: timedelta
) -> tuple[AlertState, Event | None]:
    if not state.firing:
        fired = replace(state, severity=level, fired_at=now, last_notified_at=now)
        return fired, Event.FIRING
    if level.rank > state.severity.rank:
        return replace(state, severity=level, last_notified_at=now), Event.ESCALATED
    if level.rank < state.severity.rank:
        return replace(state, severity=level), None

    last = state.last_notified_at or state.fired_at or now
    if level is Level.CRITICAL and now - last >= repeat_every:
        return replace(state, last_notified_at=now), Event.REPEAT
    return state, None
