"""``external-orders worker``: runs the scheduled tasks until stopped.

SIGTERM or SIGINT stops it cleanly: the attempts in flight finish, the
retries claimed but not started are given back, the task run is closed.
A second signal ends it at once (exit 130); attempts it leaves in
``processing`` are recovered later by the retry task.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import datetime, timedelta
from pathlib import Path

import typer

from external_orders.adapters.db.engine import describe_database, is_database_error
from external_orders.bootstrap import Services
from external_orders.clock import Clock, SystemClock
from external_orders.entrypoints.cli.errors import CommandFailed
from external_orders.logs import configure_logging, log_event
from external_orders.services.scheduler import Scheduler
from external_orders.settings import Settings

EXIT_INTERRUPTED = 130


class OffsetClock:
    """The system clock ahead by the seconds written in a file.

    A test hook (``EXTERNAL_ORDERS_CLOCK_OFFSET_FILE``): an end-to-end test
    moves a real worker through minutes of backoff by writing the file,
    without sleeping. A missing or unreadable file means no offset.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.system = SystemClock()

    def now(self) -> datetime:
        return self.system.now() + timedelta(seconds=self._offset())

    def _offset(self) -> float:
        try:
            return float(self.path.read_text().strip() or 0)
        except (OSError, ValueError):
            return 0.0


def worker() -> None:
    """Run due scheduled tasks (the retry task among them) until SIGTERM/Ctrl-C."""
    settings = Settings()
    configure_logging(settings.log_dir)
    clock: Clock = (
        OffsetClock(settings.clock_offset_file)
        if settings.clock_offset_file
        else SystemClock()
    )
    services = Services(settings, clock=clock)
    try:
        _refuse_missing_schema(services)
        stop = threading.Event()
        _stop_on_signals(stop)
        scheduler = Scheduler(services)
        log_event("Worker started.", instance=scheduler.instance)
        scheduler.run_forever(stop)
        log_event("Worker stopped.", instance=scheduler.instance)
    finally:
        services.close()


def _refuse_missing_schema(services: Services) -> None:
    try:
        info = describe_database(services.engine)
    except Exception as error:
        if not is_database_error(error):
            raise
        return  # unreachable now: the scheduler waits for it
    if info.missing_tables:
        raise CommandFailed(
            "the database has no tables yet: run `external-orders db upgrade`"
        )


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM/SIGINT set ``stop``; a second one ends the process at once.

    The signals are blocked in every thread and taken by one watcher thread
    with ``sigwait``: a Python signal handler would run on the main thread
    in the middle of whatever it holds, and setting an Event or logging
    from there can deadlock on a lock the interrupted code holds.
    """
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)

    def watch() -> None:
        number = signal.sigwait(signals)
        log_event("Worker stopping.", signal=signal.Signals(number).name)
        stop.set()
        number = signal.sigwait(signals)
        log_event("Worker stopping now.", signal=signal.Signals(number).name)
        os._exit(EXIT_INTERRUPTED)

    threading.Thread(target=watch, name="signals", daemon=True).start()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
