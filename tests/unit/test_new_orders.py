"""Which new orders qualify, and how the new-order cursor moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from external_orders.adapters.db.cursor import Cursor
from external_orders.clock import millisecond
from external_orders.services.new_orders import Qualification
from external_orders.settings import Settings

CHANNEL = "98432def39fc4624b33213a56b8c944d"
T0 = datetime(2026, 12, 1, 9, 0, 0, 123000, tzinfo=UTC)


def an_order(
    state: str = "open",
    payments: list[tuple[str, str]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An order summary as the listing gives it; payments: (createdAt, state)."""
    transactions = [
        {"createdAt": created, "stateMachineState": {"technicalName": name}}
        for created, name in (payments or [("2026-12-01T09:00:00.000+00:00", "open")])
    ]
    return {
        "id": uuid4().hex,
        "createdAt": "2026-12-01T09:00:00.123+00:00",
        "salesChannelId": CHANNEL,
        "stateMachineState": {"technicalName": state},
        "transactions": transactions,
        "tags": [],
        "customFields": None,
        **fields,
    }


@pytest.mark.parametrize("state", ["open", "in_progress", "completed", "custom"])
def test_by_default_every_order_that_is_not_cancelled_qualifies(state: str) -> None:
    """The default takes open, in progress, completed and unknown states."""
    assert Qualification().skip_reason(an_order(state)) is None


def test_by_default_a_cancelled_order_is_skipped() -> None:
    """A cancelled order is never exported by default."""
    assert Qualification().skip_reason(an_order("cancelled")) == (
        "order state cancelled"
    )


def test_configured_order_states_are_the_only_ones_taken() -> None:
    """With order states set, an order in another state is skipped, naming it."""
    only_open = Qualification.of(order_states=["open"])

    assert only_open.skip_reason(an_order("open")) is None
    assert only_open.skip_reason(an_order("completed")) == "order state completed"
    assert only_open.skip_reason(an_order(stateMachineState=None)) == (
        "order state unknown"
    )


def test_the_payment_state_is_the_state_of_the_latest_transaction() -> None:
    """A failed first payment followed by a paid one counts as paid."""
    paid_only = Qualification.of(payment_states=["paid"])
    payments = [
        ("2026-12-01T09:05:00.000+00:00", "paid"),
        ("2026-12-01T09:00:00.000+00:00", "failed"),
    ]

    assert paid_only.skip_reason(an_order(payments=payments)) is None
    assert paid_only.skip_reason(an_order()) == "payment state open"
    assert paid_only.skip_reason(an_order(transactions=[])) == ("payment state unknown")


def test_sales_channels_are_compared_as_ids_in_any_form() -> None:
    """A dashed or upper-case channel id in the settings matches the order's."""
    dashed = "98432DEF-39FC-4624-B332-13A56B8C944D"
    one_channel = Qualification.of(sales_channel_ids=[dashed])
    other = "0" * 32

    assert one_channel.skip_reason(an_order()) is None
    assert one_channel.skip_reason(an_order(salesChannelId=other)) == (
        f"sales channel {other}"
    )


@pytest.mark.parametrize("name", ["test", "Test", "TEST"])
def test_an_order_tagged_test_is_a_test_order(name: str) -> None:
    """The test tag is compared without regard to case."""
    order = an_order(tags=[{"name": "vip"}, {"name": name}])

    assert Qualification().skip_reason(order) == "test order"


@pytest.mark.parametrize("value", [True, 1, "1", "true", "yes"])
def test_an_order_with_the_test_custom_field_set_is_a_test_order(value: Any) -> None:
    """The custom field externalOrdersTestOrder set to a true value marks it."""
    order = an_order(customFields={"externalOrdersTestOrder": value})

    assert Qualification().skip_reason(order) == "test order"


@pytest.mark.parametrize("value", [False, 0, "0", "", None])
def test_a_false_test_custom_field_does_not_mark_a_test_order(value: Any) -> None:
    """False, zero, empty and null leave the order a real one."""
    order = an_order(customFields={"externalOrdersTestOrder": value})

    assert Qualification().skip_reason(order) is None


def test_empty_test_marks_turn_the_test_order_check_off() -> None:
    """With no tag and no custom field configured, nothing is a test order."""
    unmarked = Qualification.of(test_tag="", test_custom_field=" ")
    order = an_order(
        tags=[{"name": "test"}], customFields={"externalOrdersTestOrder": True}
    )

    assert unmarked.skip_reason(order) is None


def test_the_filters_are_read_from_comma_separated_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EXTERNAL_ORDERS_NEW_ORDERS_* lists are comma-separated, blanks ignored."""
    monkeypatch.setenv("EXTERNAL_ORDERS_NEW_ORDERS_ORDER_STATES", "open, in_progress,")
    monkeypatch.setenv("EXTERNAL_ORDERS_NEW_ORDERS_PAYMENT_STATES", "paid")

    settings = Settings()

    assert settings.new_orders_order_states == ("open", "in_progress")
    assert settings.new_orders_payment_states == ("paid",)
    assert settings.new_orders_sales_channel_ids == ()


def test_a_cursor_starts_at_a_whole_millisecond_with_nothing_seen() -> None:
    """The first position is the start time cut to milliseconds."""
    cursor = Cursor.starting_at(T0 + timedelta(microseconds=456))

    assert cursor.position == T0 == cursor.since
    assert cursor.seen == frozenset()


def test_orders_sharing_a_millisecond_are_passed_one_by_one() -> None:
    """At one millisecond the cursor keeps every id it passed, and only those."""
    first, second, third = UUID(int=3), UUID(int=1), UUID(int=2)
    cursor = Cursor.starting_at(T0)

    cursor = cursor.passed(T0, first).passed(T0 + timedelta(microseconds=900), second)

    assert cursor.position == T0
    assert cursor.seen == {first, second}
    assert cursor.has_passed(T0, first) and cursor.has_passed(T0, second)
    assert not cursor.has_passed(T0, third)


def test_a_later_order_moves_the_cursor_and_forgets_the_boundary() -> None:
    """Passing a later order keeps only that order's id at the new position."""
    later = T0 + timedelta(milliseconds=1)
    cursor = Cursor.starting_at(T0).passed(T0, UUID(int=1))

    cursor = cursor.passed(later, UUID(int=2))

    assert (cursor.position, cursor.seen) == (later, {UUID(int=2)})
    assert cursor.has_passed(T0, UUID(int=9))
    assert not cursor.has_passed(later + timedelta(milliseconds=1), UUID(int=2))


def test_an_earlier_order_never_moves_the_cursor_back() -> None:
    """An order read again from before the position leaves the cursor as it is."""
    cursor = Cursor.starting_at(T0)

    assert cursor.passed(T0 - timedelta(seconds=5), UUID(int=1)) is cursor


def test_a_rewound_scan_starts_at_the_earliest_time_but_not_before_since() -> None:
    """A scan reads again from ``earliest`` when it is before the position."""
    cursor = Cursor.starting_at(T0).passed(T0 + timedelta(minutes=5), UUID(int=1))

    rewound = cursor.rewound(T0 + timedelta(minutes=4))

    assert (rewound.position, rewound.seen) == (T0 + timedelta(minutes=4), set())
    assert cursor.rewound(T0 - timedelta(hours=1)).position == T0


def test_a_scan_from_after_the_position_starts_at_the_cursor() -> None:
    """When nothing recent lies before the position, the boundary ids stay."""
    cursor = Cursor.starting_at(T0).passed(T0, UUID(int=1))

    assert cursor.rewound(T0 + timedelta(minutes=1)) is cursor
    assert cursor.rewound(T0) is cursor


def test_millisecond_cuts_microseconds() -> None:
    """Times are compared at Shopware's precision."""
    assert millisecond(T0 + timedelta(microseconds=999)) == T0
