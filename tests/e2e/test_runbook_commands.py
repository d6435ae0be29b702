"""Every command and SQL statement of docs/runbook-export-san6.md, run for real.

The runbook's ``bash`` blocks run in a seeded install folder (the CLI, the
``rg`` line, the curl calls against a running ``external-orders serve``);
its ``sql`` blocks run against the same database when it is MariaDB, and
those SQLite understands against SQLite. A command that does not work is
listed, with its exit code and last error line, and the test fails.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from external_orders.adapters.db.engine import create_database_engine, upgrade_database
from external_orders.adapters.db.schema import metadata
from external_orders.bootstrap import Services
from external_orders.domain import san6_config as keys
from external_orders.entrypoints.cli import main
from external_orders.logs import configure_logging
from external_orders.settings import Settings
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import Faults, SimulatorState
from external_orders.simulators.settings import simulator_settings
from tests.conftest import MYSQL_URL
from tests.integration.alert_sinks import MailSink, SlackSink, free_port

pytest_plugins = ["tests.integration.alert_fixtures"]

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook-export-san6.md"
BIN = Path(sys.executable).parent
APP_SECRET = "runbook-app-secret-0123456789"
MYSQL_ONLY = ("HEX(", "NOW(", "INTERVAL", "TIMESTAMPDIFF", "SET time_zone")
LONG_RUNNING = ("external-orders serve", "external-orders worker")
SHELL_SYNTAX = re.compile(r"[$|&;<>`]")


@dataclass(frozen=True)
class Snippet:
    """One command or SQL statement of the runbook, with its section."""

    kind: str
    text: str
    section: str


def runbook_snippets(text: str) -> list[Snippet]:
    snippets = []
    section = ""
    pattern = r"^(#+ [^\n]*)$|^```(\w*)\n(.*?)^```"
    for block in re.finditer(pattern, text, re.M | re.S):
        if block.group(1):
            section = block.group(1).lstrip("# ")
        elif block.group(2) == "bash":
            snippets += [Snippet("bash", c, section) for c in _commands(block.group(3))]
        elif block.group(2) == "sql":
            statements = [s.strip() for s in block.group(3).split(";") if s.strip()]
            snippets += [Snippet("sql", s, section) for s in statements]
    return snippets


def _commands(block: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", block)
    lines = (line.strip() for line in joined.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@dataclass
class Install:
    """A seeded install folder, its database, its server and what it knows."""

    folder: Path
    env: dict[str, str]
    engine: sa.Engine
    values: dict[str, str]
    fresh_orders: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    outputs: dict[int, Path] = field(default_factory=dict)

    def substitute(self, text: str) -> str:
        if re.search(r"(/export/|external-orders export )<orderId>", text):
            text = text.replace("<orderId>", self.fresh_orders.pop())
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        return text

    def shell(
        self, command: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def fail(self, snippet: Snippet, problem: str) -> None:
        self.failures.append(f"[{snippet.section}] {snippet.text}\n    -> {problem}")


def _environment(
    database: str | None, serve_url: str, mail_port: int, slack_url: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXTERNAL_ORDERS_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        EXTERNAL_ORDERS_APP_SECRET=APP_SECRET,
        EXTERNAL_ORDERS_PUBLIC_URL=serve_url,
        EXTERNAL_ORDERS_SMTP_HOST="127.0.0.1",
        EXTERNAL_ORDERS_SMTP_PORT=str(mail_port),
        EXTERNAL_ORDERS_SMTP_SECURITY="none",
        EXTERNAL_ORDERS_SMTP_TO="support@shop.example",
        EXTERNAL_ORDERS_SLACK_WEBHOOK_URL=slack_url,
    )
    if database:
        env["EXTERNAL_ORDERS_DATABASE_URL"] = database
    return env


def _generated_orders(count: int) -> list[dict[str, Any]]:
    template = json.loads(sample_files()[0].read_text())
    orders = []
    for number in range(count):
        order = json.loads(json.dumps(template))
        order["id"] = uuid.uuid4().hex
        order["orderNumber"] = f"R{number:05d}"
        orders.append(order)
    return orders


def _seed(
    services: Services, simulator: SimulatorState, url: str, folder: Path
) -> dict[str, str]:
    """Attempts of every outcome, so each log line and status exists."""
    for key, value in simulator_settings(simulator, url, timeout=2).items():
        services.config.set(key, value)
    batch = folder / "generated.json"
    batch.write_text(json.dumps({"data": _generated_orders(12)}))
    services.file_orders.import_files([batch])
    ids = [uuid.UUID(o["id"]) for o in json.loads(batch.read_text())["data"]]
    batch.unlink()

    services.exporter.export(ids[0])
    simulator.set_faults(
        Faults(response_code="17", response_message="Artikel unbekannt")
    )
    pending = services.exporter.export(ids[1])
    simulator.set_faults(Faults(http_status=503))
    services.exporter.export(ids[2])
    simulator.clear_faults()
    services.config.unset(keys.PRODUCT)
    services.exporter.export(ids[3])
    services.config.set(keys.PRODUCT, simulator.product)
    return {"<orderId>": ids[1].hex, "<exportId>": pending.id.hex}


def _database(engine: sa.Engine) -> None:
    """Empty tables, migrated (MariaDB is shared by the session)."""
    if engine.dialect.name == "sqlite":
        upgrade_database(engine)
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        for table in [*metadata.sorted_tables, sa.table("alembic_version")]:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
    upgrade_database(engine)


@pytest.fixture
def install(
    tmp_path: Path,
    simulator: SimulatorState,
    simulator_url: str,
    mail_sink: tuple[MailSink, int],
    slack_sink: SlackSink,
) -> Iterator[Install]:
    """The folder, MariaDB when configured (else SQLite), seeded, and served."""
    folder = tmp_path / "install"
    folder.mkdir()
    database = MYSQL_URL or f"sqlite:///{folder / 'var' / 'external-orders.db'}"
    engine = create_database_engine(database)
    _database(engine)
    port = free_port()
    serve_url = f"http://127.0.0.1:{port}"
    env = _environment(MYSQL_URL, serve_url, mail_sink[1], slack_sink.url)

    settings = Settings(
        database_url=database,
        order_dir=folder / "var" / "orders",
        log_dir=folder / "var" / "log",
        app_secret=APP_SECRET,
        public_url=serve_url,
    )
    configure_logging(settings.log_dir, to_stderr=False)
    services = Services(settings)
    values = _seed(services, simulator, simulator_url, folder)
    services.scheduled_tasks.register({"external_orders.export_retry": 60})
    base_url = simulator_settings(simulator, simulator_url)[keys.BASE_URL]
    values.update(
        {
            "<service-url>": serve_url,
            "<new-base-url>": base_url,
            "<previous-base-url>": base_url,
            "<date>": "2026-01-01",
        }
    )
    fresh = [o["id"] for o in _generated_orders(6)]
    _write_orders(folder / "var" / "orders", fresh)

    setup = Install(folder, env, engine, values, fresh_orders=fresh)
    server = _start(
        setup, f"external-orders serve --host 127.0.0.1 --port {port} --no-worker"
    )
    try:
        _wait_for_health(serve_url, server)
        _credentials(setup)
        yield setup
    finally:
        _stop(server)
        services.close()
        engine.dispose()


def _write_orders(folder: Path, order_ids: list[str]) -> None:
    template = json.loads(sample_files()[0].read_text())
    for number, order_id in enumerate(order_ids):
        order = {**template, "id": order_id, "orderNumber": f"F{number:05d}"}
        (folder / f"{order_id}.json").write_text(json.dumps(order))


def _credentials(install: Install) -> None:
    done = install.shell(
        "external-orders integration create --label runbook-test --json"
    )
    if done.returncode != 0:
        install.failures.append(f"integration create --json failed: {done.stderr}")
        return
    created = json.loads(done.stdout)
    install.values["<client-id>"] = created["accessKeyId"]
    install.values["<client-secret>"] = created["secretAccessKey"]


def _start(install: Install, command: str) -> subprocess.Popen[str]:
    """``command`` in the background, its output in a file (a pipe could fill)."""
    output = install.folder / f"background-{uuid.uuid4().hex[:8]}.out"
    with output.open("w") as file:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=install.folder,
            env=install.env,
            stdout=file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    install.outputs[process.pid] = output
    return process


def _wait_for_health(url: str, process: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[str]) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
    return process.returncode


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def run_bash(install: Install, snippet: Snippet) -> None:
    command = install.substitute(snippet.text)
    if command.startswith(LONG_RUNNING):
        run_long(install, snippet, command)
        return
    done = run_cli(install, command) or install.shell(command)
    if done.returncode != 0:
        output = done.stderr or done.stdout
        install.fail(snippet, f"exit {done.returncode}: {_last_line(output)}")
        return
    check_output(install, snippet, command, done.stdout)


def run_cli(install: Install, command: str) -> subprocess.CompletedProcess[str] | None:
    """A plain ``external-orders`` command, run in this process by the console
    script's own entry point (``main.run``), in the install folder and with its
    environment: the same code path as the installed command, without paying
    a second of interpreter start per command. None: needs a real shell."""
    if not command.startswith("external-orders ") or SHELL_SYNTAX.search(command):
        return None
    stdout, stderr = io.StringIO(), io.StringIO()
    with _environment_of(install), redirect_stdout(stdout), redirect_stderr(stderr):
        sys.argv = shlex.split(command)
        try:
            main.run()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
    return subprocess.CompletedProcess(
        sys.argv, code, stdout.getvalue(), stderr.getvalue()
    )


@contextmanager
def _environment_of(install: Install) -> Iterator[None]:
    saved_environment, saved_argv, saved_folder = dict(os.environ), sys.argv, Path.cwd()
    os.environ.clear()
    os.environ.update(install.env)
    os.chdir(install.folder)
    try:
        yield
    finally:
        os.chdir(saved_folder)
        os.environ.clear()
        os.environ.update(saved_environment)
        sys.argv = saved_argv


def check_output(install: Install, snippet: Snippet, command: str, output: str) -> None:
    code = re.search(r"^HTTP (\d{3})$", output, re.M)
    if code and not code.group(1).startswith("2"):
        install.fail(snippet, f"HTTP {code.group(1)}: {_last_line(output[:-10])}")
    if command.startswith("curl -sS -i") and " 200" not in output.split("\n", 1)[0]:
        install.fail(snippet, f"answer {output.splitlines()[:1]}")
    if "/api/oauth/token" in command:
        try:
            install.values["<admin-api-token>"] = json.loads(output)["access_token"]
        except (ValueError, KeyError):
            install.fail(snippet, f"no access_token in {output[:200]!r}")
    if command.startswith("rg ") and "TopM order export" in command:
        for message in (
            "TopM order export response received.",
            "TopM order export failed.",
            "TopM order export skipped: invalid SAN6 config.",
        ):
            if message not in output:
                install.fail(snippet, f"no line {message!r} found in var/log")


def run_long(install: Install, snippet: Snippet, command: str) -> None:
    """serve and worker run until stopped: start, see them work, stop them."""
    if command.startswith("external-orders serve"):
        port = free_port()
        command = re.sub(r"--port \d+", f"--port {port}", command)
        process = _start(install, command)
        alive = _wait_for_health(f"http://127.0.0.1:{port}", process)
    else:
        process = _start(install, command)
        alive = _wait_for_log(install, "Worker started.", process)
    code = _stop(process)
    if not alive or code != 0:
        error = install.outputs[process.pid].read_text()
        install.fail(snippet, f"alive={alive} exit {code}: {_last_line(error)}")


def _wait_for_log(
    install: Install, message: str, process: subprocess.Popen[str]
) -> bool:
    log = install.folder / "var" / "log" / "external-orders.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if message in log.read_text():
            return True
        time.sleep(0.1)
    return False


def run_sql(install: Install, snippet: Snippet) -> None:
    statement = install.substitute(snippet.text)
    sqlite = install.engine.dialect.name == "sqlite"
    if sqlite and any(token in statement for token in MYSQL_ONLY):
        return
    if not sqlite:
        statement = statement.replace("%", "%%")  # the driver's paramstyle
    try:
        with install.engine.begin() as connection:
            connection.exec_driver_sql(statement)
    except sa.exc.SQLAlchemyError as error:
        install.fail(snippet, _last_line(str(getattr(error, "orig", error))))


@pytest.mark.slow
@pytest.mark.mysql
def test_every_runbook_command_and_statement_runs(install: Install) -> None:
    """Each runbook command exits 0 (curl: HTTP 2xx) and each SQL statement runs."""
    snippets = runbook_snippets(RUNBOOK.read_text())
    assert sum(s.kind == "bash" for s in snippets) >= 30
    assert sum(s.kind == "sql" for s in snippets) >= 15

    for snippet in snippets:
        if snippet.kind == "bash":
            run_bash(install, snippet)
        else:
            run_sql(install, snippet)

    if install.failures:
        pytest.fail(
            f"{len(install.failures)} runbook snippet(s) do not work:\n"
            + "\n".join(install.failures),
            pytrace=False,
        )


@pytest.mark.skipif(MYSQL_URL is None, reason="covered by the SQLite run above")
def test_runbook_sql_that_sqlite_understands_runs_on_sqlite(tmp_path: Path) -> None:
    """The portable statements also run on the embedded SQLite database."""
    engine = create_database_engine(f"sqlite:///{tmp_path / 'runbook.db'}")
    upgrade_database(engine)
    install = Install(tmp_path, {}, engine, {"<exportId>": uuid.uuid4().hex})
    statements = [s for s in runbook_snippets(RUNBOOK.read_text()) if s.kind == "sql"]

    for snippet in statements:
        run_sql(install, snippet)
    engine.dispose()

    assert install.failures == []


def test_the_runbook_names_every_status_kpi_threshold_and_message() -> None:
    """Statuses, KPIs, thresholds, log lines and escalation steps are all there."""
    text = RUNBOOK.read_text()
    expected = [
        *("processing", "sent", "failed", "retry_scheduled", "failed_permanent"),
        *("failed_exports_total", "retry_pending_total", "oldest_retry_age_minutes"),
        *("failure_rate_pct", "retry_backlog", "overdue_retry_backlog"),
        *("`>= 10`", "`>= 30`", "`> 20`", "`> 100`", "`> 15 min`", "`> 30 min`"),
        *("failure_rate_pct > 5%", "failure_rate_pct > 15%", "pendant 10 minutes"),
        "`retry_pending_total > 100` **ou** `oldest_retry_age_minutes > 30`",
        "pendant 15 min",
        "TopM order export response received.",
        "TopM order export failed.",
        "TopM order export skipped: invalid SAN6 config.",
        *("T+0 min (Support L1)", "T+10 min (Ops)", "T+20 min (Dev on-call)"),
        *("T+30 min (Management/PO)", "**Rétablissement**", "REX"),
        *("MAX_RETRIES = 5", "`LIMIT 20`", "`#incident-topm`", "timeWindow=15m"),
        "runbook=docs/runbook-export-san6.md",
    ]

    missing = [phrase for phrase in expected if phrase not in text]

    assert missing == []


def test_rg_is_there_for_the_log_line() -> None:
    """The runbook's log filter needs ripgrep (.ci/run installs it)."""
    if shutil.which("rg") is None:
        pytest.skip("ripgrep is not installed")
    assert (
        subprocess.run(["rg", "--version"], capture_output=True, check=False).returncode
        == 0
    )
