"""The alert state machine and messages, with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from external_orders.clock import FrozenClock
from external_orders.domain import kpi
from external_orders.domain.alert_message import ESCALATION_STEPS, AlertMessage
from external_orders.domain.alerting import (
    PROLONGED_OUTAGE,
    AlertState,
    Event,
    Observation,
    Rule,
    observe,
    rules,
    step,
)
from external_orders.domain.kpi import (
    Comparison,
    KpiSnapshot,
    KpiValue,
    Level,
    Thresholds,
)

HOUR = timedelta(hours=1)
PENDING = Thresholds(Comparison.ABOVE, 20, 100)
AGE = Thresholds(Comparison.ABOVE, 15, 30)
FAILED = Thresholds(Comparison.AT_LEAST, 10, 30)


def seen(level: Level, value: float = 1.0) -> Observation:
    return Observation(level, "failed_exports_total", value, 10.0, ">=")


class Machine:
    """One alert driven check by check, as the task would."""

    def __init__(self, rule: Rule, clock: FrozenClock) -> None:
        self.rule = rule
        self.clock = clock
        self.state = AlertState(rule.name)
        self.events: list[tuple[datetime, Event, Level]] = []

    def check(self, level: Level, value: float = 1.0) -> Event | None:
        self.state, event = step(
            self.rule, self.state, seen(level, value), self.clock.now(), HOUR
        )
        if event is not None:
            self.events.append((self.clock.now(), event, self.state.severity))
        return event

    def minutes(self, count: int, level: Level) -> None:
        for _ in range(count):
            self.clock.advance(minutes=1)
            self.check(level)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


def test_an_instant_rule_fires_at_the_first_bad_check(clock: FrozenClock) -> None:
    """A rule without hold fires a warning the moment its value crosses."""
    machine = Machine(Rule("failed_exports_total", timedelta(0)), clock)

    assert machine.check(Level.OK) is None
    assert machine.check(Level.WARNING) is Event.FIRING
    assert machine.state.severity is Level.WARNING
    assert machine.state.fired_at == clock.now()


def test_a_firing_alert_does_not_notify_again_at_the_same_level(
    clock: FrozenClock,
) -> None:
    """A warning that stays a warning is notified once, however long it lasts."""
    machine = Machine(Rule("failed_exports_total", timedelta(0)), clock)
    machine.check(Level.WARNING)

    machine.minutes(180, Level.WARNING)

    assert [event for _, event, _ in machine.events] == [Event.FIRING]


def test_warning_to_critical_escalates_once(clock: FrozenClock) -> None:
    """Rising from warning to critical notifies an escalation, then nothing."""
    machine = Machine(Rule("failed_exports_total", timedelta(0)), clock)
    machine.check(Level.WARNING)
    clock.advance(minutes=1)

    assert machine.check(Level.CRITICAL) is Event.ESCALATED
    machine.minutes(30, Level.CRITICAL)
    assert [event for _, event, _ in machine.events] == [
        Event.FIRING,
        Event.ESCALATED,
    ]


def test_a_critical_alert_repeats_every_hour(clock: FrozenClock) -> None:
    """While critical, the alert is notified again each hour after the last."""
    machine = Machine(Rule("retry_pending_total", timedelta(0)), clock)
    start = clock.now()
    machine.check(Level.CRITICAL)

    machine.minutes(150, Level.CRITICAL)

    repeats = [at for at, event, _ in machine.events if event is Event.REPEAT]
    assert repeats == [start + HOUR, start + 2 * HOUR]


def test_a_warning_never_repeats(clock: FrozenClock) -> None:
    """The hourly repeat is for critical alerts only."""
    machine = Machine(Rule("retry_pending_total", timedelta(0)), clock)
    machine.check(Level.WARNING)

    machine.minutes(150, Level.WARNING)

    assert len(machine.events) == 1


def test_recovery_resolves_and_a_new_problem_fires_again(clock: FrozenClock) -> None:
    """Back to ok resolves the alert; the next crossing is a new firing."""
    machine = Machine(Rule("failure_rate_pct", timedelta(0)), clock)
    machine.check(Level.CRITICAL)
    clock.advance(minutes=1)

    assert machine.check(Level.OK) is Event.RESOLVED
    assert machine.state.severity is Level.OK
    assert machine.check(Level.OK) is None
    clock.advance(minutes=1)
    assert machine.check(Level.WARNING) is Event.FIRING


def test_a_held_rule_waits_for_its_duration(clock: FrozenClock) -> None:
    """overdue_retry_backlog fires only after 10 minutes of holding, not before."""
    machine = Machine(Rule("overdue_retry_backlog", timedelta(minutes=10)), clock)
    start = clock.now()
    machine.check(Level.WARNING)

    machine.minutes(9, Level.WARNING)
    assert machine.events == []

    machine.minutes(1, Level.WARNING)
    assert machine.events == [
        (start + timedelta(minutes=10), Event.FIRING, Level.WARNING)
    ]


def test_a_break_in_the_condition_restarts_the_hold(clock: FrozenClock) -> None:
    """One good check in between and the 10 minutes count from the start again."""
    machine = Machine(Rule("overdue_retry_backlog", timedelta(minutes=10)), clock)
    machine.check(Level.WARNING)
    machine.minutes(8, Level.WARNING)
    machine.minutes(1, Level.OK)

    machine.minutes(10, Level.WARNING)
    assert machine.events == []
    machine.minutes(1, Level.WARNING)
    assert [event for _, event, _ in machine.events] == [Event.FIRING]


def test_a_pending_condition_that_clears_notifies_nothing(clock: FrozenClock) -> None:
    """A condition gone before its hold ends fires nothing and resolves nothing."""
    machine = Machine(Rule(PROLONGED_OUTAGE, timedelta(minutes=15)), clock)
    machine.check(Level.CRITICAL)
    machine.minutes(14, Level.CRITICAL)
    machine.minutes(5, Level.OK)

    assert machine.events == []
    assert machine.state.pending_since is None


def test_falling_back_to_warning_is_silent_and_rising_escalates_again(
    clock: FrozenClock,
) -> None:
    """critical -> warning stays firing quietly; warning -> critical escalates."""
    machine = Machine(Rule("failed_exports_total", timedelta(0)), clock)
    machine.check(Level.CRITICAL)
    clock.advance(minutes=1)

    assert machine.check(Level.WARNING) is None
    assert machine.state.severity is Level.WARNING
    clock.advance(minutes=1)
    assert machine.check(Level.CRITICAL) is Event.ESCALATED


def snapshot(pending: float, age: float) -> KpiSnapshot:
    values = [
        KpiValue(kpi.RETRY_PENDING_TOTAL, pending, PENDING),
        KpiValue(kpi.OLDEST_RETRY_AGE_MINUTES, age, AGE),
        KpiValue(kpi.FAILED_EXPORTS_TOTAL, 0, FAILED),
    ]
    return KpiSnapshot(
        at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        window_minutes=15,
        attempts_in_window=0,
        values={value.name: value for value in values},
    )


OUTAGE = Rule(PROLONGED_OUTAGE, timedelta(minutes=15), escalation=True)


@pytest.mark.parametrize(
    ("pending", "age", "level", "metric"),
    [
        (101, 0, Level.CRITICAL, kpi.RETRY_PENDING_TOTAL),
        (100, 0, Level.OK, kpi.RETRY_PENDING_TOTAL),
        (5, 30.01, Level.CRITICAL, kpi.OLDEST_RETRY_AGE_MINUTES),
        (5, 30, Level.OK, kpi.RETRY_PENDING_TOTAL),
    ],
)
def test_prolonged_outage_is_pending_above_100_or_age_above_30(
    pending: float, age: float, level: Level, metric: str
) -> None:
    """Section 6: retry_pending_total > 100 or oldest_retry_age_minutes > 30."""
    observation = observe(OUTAGE, snapshot(pending, age))

    assert observation.level is level
    assert observation.metric == metric


@pytest.mark.parametrize(
    ("value", "level"),
    [(9, Level.OK), (10, Level.WARNING), (29, Level.WARNING), (30, Level.CRITICAL)],
)
def test_failed_exports_thresholds_include_the_value(
    value: float, level: Level
) -> None:
    """failed_exports_total is warning at 10 and critical at 30 (>=)."""
    assert FAILED.level(value) is level


@pytest.mark.parametrize(
    ("value", "level"),
    [(20, Level.OK), (21, Level.WARNING), (100, Level.WARNING), (101, Level.CRITICAL)],
)
def test_retry_pending_thresholds_exclude_the_value(value: float, level: Level) -> None:
    """retry_pending_total is warning above 20 and critical above 100 (>)."""
    assert PENDING.level(value) is level


def test_the_rules_hold_for_the_runbook_durations() -> None:
    """The overdue backlog holds 10 minutes, the prolonged outage 15."""
    holds = {
        rule.name: rule.hold
        for rule in rules(timedelta(minutes=10), timedelta(minutes=15))
    }

    assert holds["overdue_retry_backlog"] == timedelta(minutes=10)
    assert holds[PROLONGED_OUTAGE] == timedelta(minutes=15)
    assert holds["failed_exports_total"] == timedelta(0)
    assert holds["san6_config_invalid"] == timedelta(0)


def test_message_payload_has_the_runbook_fields() -> None:
    """The payload has service, metric, severity, value, threshold, window, runbook."""
    message = AlertMessage(
        alert="oldest_retry_age_minutes",
        event=Event.FIRING,
        severity=Level.WARNING,
        metric="oldest_retry_age_minutes",
        value=16.5,
        threshold=15,
        comparison=">",
        time_window_minutes=15,
        at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        dashboard_url="https://grafana.example/d/topm",
    )

    fields = message.fields()

    assert fields["service"] == "ExternalOrders"
    assert fields["metric"] == "oldest_retry_age_minutes"
    assert fields["severity"] == "warning"
    assert fields["value"] == "16.50"
    assert fields["threshold"] == "> 15"
    assert fields["timeWindow"] == "15m"
    assert fields["runbook"] == "docs/runbook-export-san6.md"
    assert fields["dashboard"] == "https://grafana.example/d/topm"
    assert "timeWindow=15m" in message.text()


def test_message_survives_the_outbox_round_trip() -> None:
    """A message read back from its JSON equals the one written."""
    message = AlertMessage(
        alert=PROLONGED_OUTAGE,
        event=Event.FIRING,
        severity=Level.CRITICAL,
        metric="retry_pending_total",
        value=130,
        threshold=100,
        comparison=">",
        time_window_minutes=15,
        at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        steps=ESCALATION_STEPS,
    )

    assert AlertMessage.from_json(message.to_json()) == message
    assert "Escalade (runbook, section 6)" in message.text()
