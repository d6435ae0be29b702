"""Real ``external-orders worker`` processes for the end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from external_orders.bootstrap import Services
from external_orders.services.scheduler import Scheduler
from tests.integration.retry_support import log_messages

COMMAND = Path(sys.executable).with_name("external-orders")
RETRY = "external_orders.export_retry"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def log_file(self) -> Path:
        return self.folder / "log" / "external-orders.log"

    def messages(self) -> list[str]:
        return [line["message"] for line in log_messages(self.log_file)]

    def lines(self) -> list[dict[str, Any]]:
        return log_messages(self.log_file)

    def stop(self, number: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``number`` and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(number)
        return self.process.wait(timeout)


@dataclass
class Workers:
    """Starts workers against one database; kills what is left at the end."""

    services: Services
    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    started: list[Worker] = field(default_factory=list)

    def start(self, **env: str) -> Worker:
        folder = self.folder / f"worker-{len(self.started)}"
        folder.mkdir(parents=True)
        settings = self.services.settings
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("EXTERNAL_ORDERS_")
        }
        environment.update(
            EXTERNAL_ORDERS_DATABASE_URL=settings.database_url,
            EXTERNAL_ORDERS_ORDER_DIR=str(settings.order_dir),
            EXTERNAL_ORDERS_LOG_DIR=str(folder / "log"),
            EXTERNAL_ORDERS_WORKER_POLL_SECONDS="0.05",
            **self.env,
            **env,
        )
        with (folder / "stderr.txt").open("wb") as output:
            process = subprocess.Popen(
                [str(COMMAND), "worker"],
                cwd=folder,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        worker = Worker(process, folder)
        self.started.append(worker)
        return worker

    def kill_all(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait(30)


def worker_pool(configured: Services, tmp_path: Path) -> Iterator[Workers]:
    """Worker processes on the test's database, with only the retry task active.

    The new-order export and the alert check are paused: the orders of these
    tests are not new, and nothing but the retry task may send them.
    """
    scheduler = Scheduler(configured)
    scheduler.ensure_registered()
    for name in scheduler.tasks:
        if name != RETRY:
            scheduler.pause(name)
    started = Workers(configured, tmp_path / "workers")
    yield started
    started.kill_all()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


def set_clock_offset(path: Path, seconds: float) -> None:
    """Move the workers' clock ``seconds`` ahead of the system's (atomically)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(str(seconds))
    os.replace(temporary, path)
