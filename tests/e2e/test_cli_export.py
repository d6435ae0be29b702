"""The CLI end to end: settings, import, export, readings, errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import Faults, SimulatorState
from external_orders.simulators.settings import simulator_settings
from tests.e2e.conftest import Cli

SAMPLE = sample_files()[0]
SAMPLE_ID = json.loads(SAMPLE.read_text())["id"]


@pytest.fixture
def ready(cli: Cli, simulator: SimulatorState, simulator_url: str) -> Cli:
    for key, value in simulator_settings(simulator, simulator_url, timeout=2).items():
        assert cli("config", "set", key, value).returncode == 0
    assert cli("orders", "import", *map(str, sample_files())).returncode == 0
    return cli


def rows(cli: Cli) -> list[sqlite3.Row]:
    connection = sqlite3.connect(cli.folder / "var" / "external-orders.db")
    connection.row_factory = sqlite3.Row
    return connection.execute(
        "SELECT * FROM external_order_export ORDER BY created_at"
    ).fetchall()


def test_db_upgrade_is_idempotent(cli: Cli) -> None:
    """Running db upgrade twice succeeds and changes nothing."""
    done = cli("db", "upgrade")
    assert done.returncode == 0
    assert "up to date" in done.stdout


def test_export_of_every_sample_ends_sent(
    ready: Cli, simulator: SimulatorState
) -> None:
    """Every sample order is sent with code 0 and its XML stored."""
    for path in sample_files():
        order_id = json.loads(path.read_text())["id"]
        done = ready("export", order_id)
        assert done.returncode == 0, done.stderr

    stored = rows(ready)
    assert {row["status"] for row in stored} == {"sent"}
    assert all(row["request_xml"] and row["response_xml"] for row in stored)
    assert len(simulator.received) == len(sample_files())


def test_business_error_gives_retry_scheduled(
    ready: Cli, simulator: SimulatorState
) -> None:
    """A business error exits 1, the row is retry_scheduled with attempts 1."""
    simulator.set_faults(
        Faults(response_code="17", response_message="Artikel unbekannt")
    )

    done = ready("export", SAMPLE_ID.upper())

    assert done.returncode == 1
    assert done.stderr.count("\n") >= 1 and "Traceback" not in done.stderr
    [row] = rows(ready)
    assert (row["status"], row["attempts"], row["response_code"]) == (
        "retry_scheduled",
        1,
        "17",
    )
    messages = [line["message"] for line in ready.log_lines()]
    assert "TopM order export response received." in messages
    assert "TopM order export retry status updated." in messages


def test_show_status_recent_overdue_read_the_table(ready: Cli) -> None:
    """The reading commands answer JSON matching the rows."""
    assert ready("export", SAMPLE_ID).returncode == 0

    [shown] = ready.json("show", SAMPLE_ID)
    assert shown["status"] == "sent" and shown["responseCode"] == "0"
    assert ready.json("status") == [{"status": "sent", "total": 1}]
    assert [r["exportId"] for r in ready.json("recent", "--limit", "5")] == [
        shown["exportId"]
    ]
    assert ready.json("overdue") == {"overdue_retries": 0}


def test_already_sent_order_needs_force(ready: Cli) -> None:
    """A second export is refused (exit 3) unless --force is given."""
    assert ready("export", SAMPLE_ID).returncode == 0

    refused = ready("export", SAMPLE_ID)
    forced = ready("export", SAMPLE_ID, "--force")

    assert refused.returncode == 3
    assert refused.stderr.startswith("Error: ") and "force" in refused.stderr
    assert forced.returncode == 0


def test_missing_product_is_failed_permanent(
    ready: Cli, simulator: SimulatorState
) -> None:
    """Without the product setting the attempt is final and SAN6 gets nothing."""
    assert (
        ready(
            "config", "unset", "ExternalOrders.config.externalOrdersSan6Product"
        ).returncode
        == 0
    )

    done = ready("export", SAMPLE_ID)

    assert done.returncode == 5
    [row] = rows(ready)
    assert row["status"] == "failed_permanent"
    assert simulator.received == []
    messages = [line["message"] for line in ready.log_lines()]
    assert "TopM order export skipped: invalid SAN6 config." in messages


@pytest.mark.parametrize(
    "args",
    [
        ["export", "not-a-uuid"],
        ["show", "1234"],
        ["recent", "--limit", "zero"],
        ["config", "set", "ExternalOrders.config.externalOrdersSan6Mandant", "Filiale"],
        [
            "config",
            "set",
            "ExternalOrders.config.externalOrdersSan6SendStrategy",
            "ftp",
        ],
        ["config", "set", "ExternalOrders.config.externalOrdersTimeout", "-1"],
        ["config", "set", "ExternalOrders.config.externalOrdersTimeout", "nan"],
        ["config", "set", "ExternalOrders.config.externalOrdersSan6BaseUrl", "ftp://x"],
        ["config", "set", "ExternalOrders.config.nope", "1"],
        ["config", "get", "nope"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli: Cli, args: list[str]) -> None:
    """Bad arguments give one Error line on stderr, exit 2, no traceback."""
    done = cli(*args)

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0


def test_config_hides_the_secret_and_check_names_missing_keys(cli: Cli) -> None:
    """The secret is *** everywhere; check exits 1 naming what is missing."""
    key = "ExternalOrders.config.externalOrdersSan6Authentifizierung"
    assert cli("config", "set", key, "s3cr3t-value").returncode == 0

    shown = cli("config", "get", key)
    listed = cli("config", "list", "--json")
    checked = cli("config", "check")

    assert shown.stdout.strip() == "***"
    assert "s3cr3t-value" not in listed.stdout + shown.stdout + checked.stdout
    assert checked.returncode == 1
    assert "externalOrdersSan6BaseUrl is missing" in checked.stdout
    assert "externalOrdersSan6Product is missing" in checked.stdout


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not JSON"),
        ('{"orderNumber": "1"}', "id"),
        ('{"id": "abc", "lineItems": []}', "UUID"),
        ('{"id": "0190c0ffee0000000000000000000001", "lineItems": {}}', "lineItems"),
    ],
)
def test_malformed_order_file_is_refused_whole(
    cli: Cli, tmp_path: Path, content: str, problem: str
) -> None:
    """A bad file is named with its problem and nothing of it is imported."""
    bad = tmp_path / "bad.json"
    bad.write_text(content)

    done = cli("orders", "import", str(SAMPLE), str(bad))

    assert done.returncode == 2
    assert str(bad) in done.stderr and problem in done.stderr
    assert not list((cli.folder / "var" / "orders").glob("*.json"))


def test_retry_command_makes_any_attempt_due_now(ready: Cli) -> None:
    """`retry EXPORT_ID` is runbook 4.5 without SQL; the task then sends it."""
    assert ready("export", SAMPLE_ID).returncode == 0
    [row] = rows(ready)

    forced = ready("retry", row["id"].hex())
    task = ready("task", "run", "external_orders.export_retry")

    assert forced.returncode == 0, forced.stderr
    assert task.returncode == 0, task.stderr
    statuses = [r["status"] for r in rows(ready)]
    assert statuses == ["failed", "sent"]
    assert ready("retry", "0" * 32).returncode == 4


def test_backfill_into_the_future_is_refused(cli: Cli) -> None:
    """A backfill date in the future would stop new-order exports: exit 2."""
    done = cli("orders", "backfill", "--since", "2999-01-01")

    assert done.returncode == 2
    assert "in the future" in done.stderr
