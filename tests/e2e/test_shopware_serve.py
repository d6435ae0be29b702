"""New shop orders reach SAN6 by themselves: ``serve`` against the Shopware stand-in,
and the ``orders`` and ``shopware-simulator`` commands as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from external_orders.bootstrap import Services
from external_orders.settings import Settings
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import SimulatorState
from external_orders.simulators.server import BackgroundServer
from external_orders.simulators.settings import simulator_settings
from external_orders.simulators.shopware import ShopwareState, create_app
from tests.e2e.conftest import COMMAND, Cli
from tests.e2e.test_serve import free_port
from tests.e2e.worker_support import wait_for
from tests.integration.shopware_support import received_numbers

CLIENT_ID = "SWIAE2ECLIENT00000000000"
CLIENT_SECRET = "e2e-shopware-secret-7d1f0c3b9a"
INTERVAL = 2
NEW_ORDERS = "external_orders.export_new"
ORDER_ID = "fd47ca8c12345c2ba2b9253b3af16400"


@contextmanager
def running(cli: Cli, *command: str) -> Iterator[subprocess.Popen[bytes]]:
    """The command in the background with the install's env; SIGTERM at the end."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EXTERNAL_ORDERS_")
    }
    environment.update(cli.env)
    with (cli.folder / f"{command[0]}.out").open("wb") as output:
        process = subprocess.Popen(
            [str(COMMAND), *command],
            cwd=cli.folder,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@pytest.fixture
def shop() -> Iterator[tuple[str, ShopwareState]]:
    """The stand-in on the system clock, holding the (old) sample orders."""
    state = ShopwareState(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    with BackgroundServer(create_app(state)) as server:
        yield server.url, state


@pytest.fixture
def install(cli: Cli, simulator: SimulatorState, simulator_url: str) -> Cli:
    """An install whose SAN6 settings point at the SAN6 simulator (written to its
    database directly: eight `config set` processes would take seconds)."""
    database = cli.folder / "var" / "external-orders.db"
    services = Services(Settings(database_url=f"sqlite:///{database}"))
    try:
        settings = simulator_settings(simulator, simulator_url, timeout=2)
        for key, value in settings.items():
            services.config.set(key, value)
    finally:
        services.close()
    return cli


def test_serve_exports_every_new_shop_order_within_two_task_intervals(
    install: Cli, shop: tuple[str, ShopwareState], simulator: SimulatorState
) -> None:
    """Orders placed while serve runs reach SAN6 once each; old ones only after
    a backfill; the client secret is in no log line."""
    url, state = shop
    install.env.update(
        EXTERNAL_ORDERS_ORDER_SOURCE="shopware",
        EXTERNAL_ORDERS_SHOPWARE_URL=url,
        EXTERNAL_ORDERS_SHOPWARE_CLIENT_ID=CLIENT_ID,
        EXTERNAL_ORDERS_SHOPWARE_CLIENT_SECRET=CLIENT_SECRET,
        EXTERNAL_ORDERS_WORKER_POLL_SECONDS="0.1",
    )
    assert install("task", "interval", NEW_ORDERS, str(INTERVAL)).returncode == 0
    doctor = install("doctor", "--json")
    (source_check,) = [
        c for c in json.loads(doctor.stdout) if c["check"] == "order source"
    ]
    assert source_check["status"] == "ok", source_check
    assert "credentials accepted" in source_check["message"]

    port = str(free_port())
    with running(install, "serve", "--port", port) as serve:
        wait_for(lambda: cursor(install)["position"] is not None, "the first run")
        placed = state.generate(3)
        started = time.monotonic()
        wait_for(lambda: len(simulator.requests()) == 3, "the new orders at SAN6")
        took = time.monotonic() - started
        print(f"\n3 new orders at SAN6 {took:.2f} s after they were placed")
        more = state.generate(2)
        wait_for(lambda: len(simulator.requests()) == 5, "two more orders")

        backfill = install("orders", "backfill", "--since", "2026-01-01", "--no-run")
        assert backfill.returncode == 0, backfill.stderr
        wait_for(lambda: len(simulator.requests()) == 14, "the backfilled samples")
        runs = finished_runs(install)
        wait_for(lambda: finished_runs(install) > runs + 1, "two more runs")
        assert serve.poll() is None

    assert serve.returncode == 0
    numbers = received_numbers(simulator)
    expected = {o["orderNumber"] for o in placed + more}
    expected |= {json.loads(p.read_text())["orderNumber"] for p in sample_files()}
    assert numbers == dict.fromkeys(expected, 1)
    shown = install.json("show", placed[0]["id"])
    assert [(a["status"], a["trigger"]) for a in shown] == [("sent", "new_order")]
    log = (install.folder / "var" / "log" / "external-orders.log").read_text()
    assert "TopM new orders run finished." in log
    assert CLIENT_SECRET not in log


def finished_runs(cli: Cli) -> int:
    """Runs of export_new the scheduler finished, from the log."""
    log = cli.folder / "var" / "log" / "external-orders.log"
    return sum(
        1
        for line in log.read_text().splitlines()
        if "Scheduled task finished." in line and NEW_ORDERS in line
    )


def cursor(cli: Cli) -> dict[str, object]:
    done = cli("orders", "cursor", "--json")
    assert done.returncode == 0, done.stderr
    shown: dict[str, object] = json.loads(done.stdout)
    return shown


def test_backfill_on_the_files_source_exports_the_imported_orders_once(
    install: Cli, simulator: SimulatorState
) -> None:
    """orders backfill --since exports orders created since, and not twice."""
    assert cursor(install) == {"source": "files", "position": None}
    assert "no cursor yet" in install("orders", "cursor").stdout
    imported = install("orders", "import", *map(str, sample_files()))
    assert imported.returncode == 0, imported.stderr

    first = install.json("orders", "backfill", "--since", "2026-11-01")
    again = install("orders", "backfill", "--since", "2026-11-01T00:00:00+01:00")

    assert first["run"]["exported"] == len(sample_files())
    assert first["since"] == "2026-11-01T00:00:00.000Z"
    assert again.returncode == 0, again.stderr
    assert "exported 0" in again.stdout
    assert "already handled 9" in again.stdout
    assert len(simulator.requests()) == len(sample_files())
    assert cursor(install)["position"] == "2026-11-28T16:12:40.093Z"


def test_a_bad_backfill_date_is_one_line_and_exit_2(cli: Cli) -> None:
    """No traceback, the value named, the cursor untouched."""
    since = "2026-13-01"

    done = cli("orders", "backfill", "--since", since)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("Error: ")
    assert f"--since {since!r}" in done.stderr
    assert cursor(cli)["position"] is None


def test_the_shopware_source_without_its_settings_is_one_line_and_exit_2(
    install: Cli,
) -> None:
    """EXTERNAL_ORDERS_ORDER_SOURCE=shopware without a URL names the variable."""
    install.env["EXTERNAL_ORDERS_ORDER_SOURCE"] = "shopware"

    done = install("export", ORDER_ID)

    assert done.returncode == 2
    assert done.stderr.startswith("Error: EXTERNAL_ORDERS_SHOPWARE_URL")
    assert done.stderr.count("\n") == 1


def test_the_shopware_simulator_command_serves_the_admin_api(cli: Cli) -> None:
    """shopware-simulator answers tokens and order searches on its port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(cli, "shopware-simulator", "--port", str(port)) as simulator:

        def answers() -> bool:
            try:
                return httpx.get(f"{base}/_simulator/requests").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, "the stand-in")
        token = httpx.post(
            f"{base}/api/oauth/token",
            json={
                "grant_type": "client_credentials",
                "client_id": "demo-client-id",
                "client_secret": "demo-client-secret",
            },
        ).json()["access_token"]
        found = httpx.post(
            f"{base}/api/search/order",
            json={"limit": 1, "total-count-mode": 1},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        ).json()

    assert simulator.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises it
    assert found["total"] == len(sample_files())
    assert (
        "Shopware Admin API stand-in"
        in Path(cli.folder / "shopware-simulator.out").read_text()
    )
