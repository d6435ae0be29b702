"""``task``, ``doctor`` and ``worker`` commands run as a user would."""

from __future__ import annotations

import json

from external_orders.bootstrap import Services
from external_orders.settings import Settings
from external_orders.simulators.san6 import SimulatorState
from external_orders.simulators.settings import simulator_settings
from tests.e2e.conftest import Cli

RETRY = "external_orders.export_retry"


def configure(cli: Cli, values: dict[str, str]) -> None:
    """Store settings in the folder's database (what `config set` does, faster)."""
    url = f"sqlite:///{cli.folder / 'var' / 'external-orders.db'}"
    services = Services(Settings(database_url=url))
    try:
        for key, value in values.items():
            services.config.set(key, value)
    finally:
        services.close()


def tasks(cli: Cli) -> dict[str, dict[str, object]]:
    return {task["name"]: task for task in cli.json("task", "list")}


def test_db_upgrade_registers_every_task(cli: Cli) -> None:
    """After db upgrade the three tasks are listed, scheduled every 60 s."""
    listed = tasks(cli)

    assert set(listed) == {
        RETRY,
        "external_orders.export_new",
        "external_orders.alert_check",
    }
    assert {(t["status"], t["runInterval"]) for t in listed.values()} == {
        ("scheduled", 60)
    }


def test_the_retry_interval_default_comes_from_the_environment(cli: Cli) -> None:
    """EXTERNAL_ORDERS_EXPORT_RETRY_INTERVAL sets the interval first registered."""
    fresh = Cli(cli.folder / "fresh", {"EXTERNAL_ORDERS_EXPORT_RETRY_INTERVAL": "300"})
    fresh.folder.mkdir()

    assert fresh("db", "upgrade").returncode == 0
    assert tasks(fresh)[RETRY]["runInterval"] == 300


def test_an_operators_interval_and_pause_survive_db_upgrade(cli: Cli) -> None:
    """task interval and task pause are kept by a later db upgrade."""
    assert cli("task", "interval", RETRY, "120").returncode == 0
    assert cli("task", "pause", RETRY).returncode == 0

    assert cli("db", "upgrade").returncode == 0

    retry = tasks(cli)[RETRY]
    assert (retry["status"], retry["runInterval"]) == ("inactive", 120)
    assert retry["defaultRunInterval"] == 60


def test_task_run_runs_the_retry_batch_once(cli: Cli) -> None:
    """task run prints the batch's report and records the run."""
    done = cli("task", "run", RETRY, "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["task"] == RETRY
    assert (report["scheduledRetries"], report["processedRetries"]) == (0, 0)
    assert tasks(cli)[RETRY]["lastExecutionTime"] is not None
    messages = [line["message"] for line in cli.log_lines()]
    assert "TopM export retry batch started." in messages
    assert "TopM export retry batch finished." in messages


def test_a_paused_task_is_not_run_by_hand(cli: Cli) -> None:
    """task run of a paused task is refused in one line; resume lets it run."""
    cli("task", "pause", RETRY)

    refused = cli("task", "run", RETRY)
    assert cli("task", "resume", RETRY).returncode == 0
    resumed = cli("task", "run", RETRY)

    assert refused.returncode in (1, 3)
    assert refused.stderr.startswith("Error: task external_orders.export_retry not run")
    assert "paused" in refused.stderr and "Traceback" not in refused.stderr
    assert resumed.returncode == 0


def test_unknown_task_and_bad_interval_are_one_line_errors(cli: Cli) -> None:
    """An unknown name exits 4, an interval of 0 exits 2, no traceback."""
    unknown = cli("task", "run", "external_orders.nope")
    zero = cli("task", "interval", RETRY, "0")

    assert unknown.returncode == 4
    assert unknown.stderr == "Error: unknown scheduled task 'external_orders.nope'\n"
    assert zero.returncode == 2
    assert "Traceback" not in zero.stderr


def test_doctor_fails_on_missing_settings_and_passes_once_set(
    cli: Cli, simulator: SimulatorState, simulator_url: str
) -> None:
    """doctor exits 1 naming the failed check, then 0 with SAN6 configured."""
    before = cli("doctor", "--json")
    configure(cli, simulator_settings(simulator, simulator_url))
    after = cli("doctor", "--json")

    assert before.returncode == 1
    assert before.stderr.strip().endswith("1 check(s) failed: SAN6 settings")
    failed = {c["check"] for c in json.loads(before.stdout) if c["status"] == "fail"}
    assert failed == {"SAN6 settings"}
    assert after.returncode == 0, after.stdout
    checks = {c["check"]: c["status"] for c in json.loads(after.stdout)}
    assert checks["database"] == checks["time zone"] == "ok"
    assert simulator.authentifizierung not in after.stdout


def test_worker_refuses_a_database_without_tables(cli: Cli) -> None:
    """worker on a database never upgraded: one line saying what to run."""
    fresh = Cli(cli.folder / "never-upgraded")
    fresh.folder.mkdir()

    done = fresh("worker", timeout=30)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: the database has no tables yet: run `external-orders db upgrade`"
    )
