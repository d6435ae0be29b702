"""``external-orders serve`` in a subprocess, driven with curl as in the runbook."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from external_orders.bootstrap import Services
from external_orders.domain import san6_config as keys
from external_orders.settings import Settings
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import SimulatorState
from external_orders.simulators.settings import simulator_settings
from tests.e2e.conftest import COMMAND, Cli

APP_SECRET = "e2e-app-secret-4f1c9a7d2b"
ORDER_IDS = [json.loads(path.read_text())["id"] for path in sample_files()]
CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")


@dataclass
class Served:
    """A running ``external-orders serve`` and where it writes."""

    url: str
    process: subprocess.Popen[bytes]
    output: Path

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(cli: Cli, *options: str) -> Iterator[Served]:
    """Starts serve on a free port; returns once /healthz answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EXTERNAL_ORDERS_")
    }
    environment.update(cli.env, EXTERNAL_ORDERS_PUBLIC_URL=url)
    output = cli.folder / "serve.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [str(COMMAND), "serve", "--port", str(port), *options],
            cwd=cli.folder,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = Served(url, process, output)
    try:
        _wait_until_healthy(served)
        yield served
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _wait_until_healthy(served: Served) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert served.process.poll() is None, served.output.read_text()
        try:
            if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("serve did not answer /healthz in time")


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    assert CURL is not None
    return subprocess.run(
        [CURL, *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def ready(cli: Cli, simulator: SimulatorState, simulator_url: str) -> Cli:
    """An install pointed at the simulator, with the sample orders and a secret.

    Set up in this process (the CLI's own commands are tested elsewhere):
    ten ``config set`` subprocesses would cost seconds per test.
    """
    cli.env["EXTERNAL_ORDERS_APP_SECRET"] = APP_SECRET
    settings = Settings(
        database_url=f"sqlite:///{cli.folder / 'var' / 'external-orders.db'}",
        order_dir=cli.folder / "var" / "orders",
    )
    services = Services(settings)
    try:
        for key, value in simulator_settings(simulator, simulator_url).items():
            services.config.set(key, value)
        services.file_orders.import_files(sample_files())
    finally:
        services.close()
    return cli


def token_with_curl(cli: Cli, url: str) -> tuple[str, dict[str, str]]:
    """An integration made with the CLI and its token fetched with curl."""
    created = cli.json("integration", "create", "--label", "support")
    done = curl(
        "-sS",
        "-X",
        "POST",
        f"{url}/api/oauth/token",
        "-d",
        "grant_type=client_credentials",
        "-d",
        f"client_id={created['accessKeyId']}",
        "-d",
        f"client_secret={created['secretAccessKey']}",
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["access_token"], created


def runbook_curl(
    url: str, order_id: str, token: str
) -> subprocess.CompletedProcess[str]:
    """Runbook 4.3, step 3, as written (with this host in place of the shop's)."""
    return curl(
        "-sS",
        "-X",
        "POST",
        f"{url}/api/_action/external-orders/export/{order_id}",
        "-H",
        f"Authorization: Bearer {token}",
        "-H",
        "Content-Type: application/json",
    )


def rows(cli: Cli) -> list[sqlite3.Row]:
    connection = sqlite3.connect(cli.folder / "var" / "external-orders.db")
    connection.row_factory = sqlite3.Row
    return connection.execute(
        "SELECT * FROM external_order_export ORDER BY created_at"
    ).fetchall()


@needs_curl
def test_runbook_curl_exports_and_answers_sent(
    ready: Cli, simulator: SimulatorState
) -> None:
    """The runbook's curl gets status sent; the row is sent with code 0."""
    with serving(ready, "--no-worker") as served:
        token, created = token_with_curl(ready, served.url)
        done = runbook_curl(served.url, ORDER_IDS[0], token)
        with_headers = curl(
            "-sS", "-i", "-X", "POST",
            f"{served.url}/api/_action/external-orders/export/{ORDER_IDS[1]}",
            "-H", f"Authorization: Bearer {token}",
            "-H", "Content-Type: application/json",
        )  # fmt: skip
        exit_code = served.stop()

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "sent"
    assert with_headers.stdout.startswith("HTTP/1.1 200")
    assert [(row["status"], row["response_code"]) for row in rows(ready)] == [
        ("sent", "0"),
        ("sent", "0"),
    ]
    assert exit_code == 0
    log = (ready.folder / "var" / "log" / "external-orders.log").read_text()
    for secret in (token, created["secretAccessKey"], APP_SECRET):
        assert secret not in log
    assert simulator.authentifizierung not in log


@needs_curl
def test_signed_url_answers_the_xml_to_curl_i(ready: Cli) -> None:
    """signed-url prints a link that curl -i downloads as application/xml."""
    with serving(ready, "--no-worker") as served:
        token, _created = token_with_curl(ready, served.url)
        export_id = json.loads(runbook_curl(served.url, ORDER_IDS[0], token).stdout)[
            "exportId"
        ]
        ready.env["EXTERNAL_ORDERS_PUBLIC_URL"] = served.url
        link = ready("signed-url", export_id, "--validate-exists")
        downloaded = curl("-sS", "-i", link.stdout.strip())
        forged = curl("-sS", "-i", link.stdout.strip()[:-2] + "AA")

    assert link.returncode == 0, link.stderr
    assert link.stdout.startswith(f"{served.url}/topm-export/")
    assert "expires at" in link.stderr
    head, _, body = downloaded.stdout.partition("\n\n")
    assert head.startswith("HTTP/1.1 200")
    assert "content-type: application/xml; charset=utf-8" in head.lower()
    assert body.startswith("<?xml") and "<AuftragNeu2>" in body
    assert forged.stdout.startswith("HTTP/1.1 404")


@needs_curl
def test_filetransferurl_export_is_downloaded_from_serve(
    ready: Cli, simulator: SimulatorState
) -> None:
    """With filetransferurl, SAN6 fetches the XML from serve and accepts it."""
    assert ready("config", "set", keys.SEND_STRATEGY, "filetransferurl").returncode == 0
    with serving(ready, "--no-worker") as served:
        token, _created = token_with_curl(ready, served.url)
        done = runbook_curl(served.url, ORDER_IDS[2], token)

    assert json.loads(done.stdout)["status"] == "sent", done.stdout
    [request] = simulator.requests()
    assert request.strategy == "filetransferurl"
    assert request.params["filetransferurl"].startswith(f"{served.url}/topm-export/")


def test_serve_refuses_filetransferurl_without_app_secret(ready: Cli) -> None:
    """No EXTERNAL_ORDERS_APP_SECRET with filetransferurl: one line, exit 5."""
    assert ready("config", "set", keys.SEND_STRATEGY, "filetransferurl").returncode == 0
    del ready.env["EXTERNAL_ORDERS_APP_SECRET"]

    done = ready("serve", "--port", str(free_port()), "--no-worker", timeout=30)

    assert done.returncode == 5
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: EXTERNAL_ORDERS_APP_SECRET is not set")
    assert "filetransferurl" in line


def test_serve_on_a_busy_port_says_so_in_one_line(cli: Cli) -> None:
    """A port already taken: exit 1 and one Error line, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        done = cli("serve", "--port", str(port), "--no-worker", timeout=30)

    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: cannot listen on 127.0.0.1:{port}")


def test_serve_with_the_worker_stops_cleanly_on_sigterm(cli: Cli) -> None:
    """serve with its scheduled tasks exits 0 on SIGTERM and logs its stop."""
    with serving(cli) as served:
        ready = httpx.get(f"{served.url}/readyz", timeout=5)
        exit_code = served.stop()

    assert ready.status_code == 200
    assert exit_code == 0, served.output.read_text()
    messages = [line["message"] for line in cli.log_lines()]
    assert "HTTP API started." in messages
    assert messages[-1] == "HTTP API stopped."
