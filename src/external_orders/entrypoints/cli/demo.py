"""The demo: real exports of the sample orders to an in-process SAN6 stand-in.

It uses the embedded default (the SQLite file under ./var), so every row it
writes can be read afterwards with the other commands.
"""

from __future__ import annotations

import time
from pathlib import Path

from external_orders.adapters.db.engine import upgrade_database
from external_orders.bootstrap import Services
from external_orders.domain import san6_config as keys
from external_orders.domain.attempt import Attempt
from external_orders.domain.order import order_id_of
from external_orders.entrypoints.cli.output import console, print_table
from external_orders.entrypoints.presenters import iso
from external_orders.logs import configure_logging
from external_orders.settings import Settings
from external_orders.simulators.sample_orders import sample_files
from external_orders.simulators.san6 import Faults, SimulatorState, create_app
from external_orders.simulators.server import BackgroundServer
from external_orders.simulators.settings import simulator_settings

BUSINESS_ERROR = ("17", "Artikel unbekannt (Demo)")
EMBEDDED_DATABASE_URL = "sqlite:///./var/external-orders.db"


def run_demo() -> None:
    started = time.monotonic()
    # Always the embedded default: the demo must never touch a real database.
    settings = Settings(database_url=EMBEDDED_DATABASE_URL)
    log_file = configure_logging(settings.log_dir, to_stderr=False)
    services = Services(settings)
    state = SimulatorState()
    try:
        with BackgroundServer(create_app(state)) as simulator:
            upgrade_database(services.engine)
            saved = services.config.all()
            _configure(services, state, simulator.url)
            orders = [
                order_id_of(o) for p in sample_files() for o in _import(services, p)
            ]
            console.print(f"SAN6 simulator listening on {simulator.url}")
            console.print(f"exporting {len(orders)} sample orders ...")
            for order_id in orders:
                _report(services.exporter.export(order_id, force=True))

            console.print(f"SAN6 now answers code {BUSINESS_ERROR[0]} once ...")
            state.set_faults(
                Faults(
                    response_code=BUSINESS_ERROR[0],
                    response_message=BUSINESS_ERROR[1],
                    fail_count=1,
                )
            )
            _report(services.exporter.export(orders[0], force=True))
            _restore(services, saved)
        _summary(services, len(state.received), log_file, time.monotonic() - started)
    finally:
        services.close()


def _import(services: Services, path: Path) -> list[dict[str, object]]:
    from external_orders.adapters.orders.files import read_order_file

    services.file_orders.import_files([path])
    return read_order_file(path)


def _configure(services: Services, state: SimulatorState, url: str) -> None:
    for key, value in simulator_settings(state, url).items():
        services.config.set(key, keys.validate_setting(key, value))


def _restore(services: Services, saved: dict[str, str]) -> None:
    """Put back the SAN6 settings the database had before the demo."""
    for key in simulator_settings(SimulatorState(), "http://x"):
        if key in saved:
            services.config.set(key, saved[key])
        else:
            services.config.unset(key)


def _report(attempt: Attempt) -> None:
    retry = (
        f" next_retry_at={iso(attempt.next_retry_at)}" if attempt.next_retry_at else ""
    )
    number = attempt.order_number or attempt.order_id.hex
    console.print(
        f"  {number:>8}  {attempt.status.value:<16}"
        f" attempts={attempt.attempts} response_code={attempt.response_code}"
        f" {attempt.response_message or ''}{retry}"
    )


def _summary(services: Services, received: int, log_file: Path, seconds: float) -> None:
    counts = services.exports.status_counts()
    print_table(["status", "total"], counts.items(), title="external_order_export")
    console.print(f"SAN6 simulator received {received} request(s)")
    console.print(f"database: {services.settings.database_url}")
    console.print("SAN6 settings: restored to what they were before the demo")
    console.print(f"log: {log_file.resolve()}")
    console.print(f"demo finished in {seconds:.1f} s")
