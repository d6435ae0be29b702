"""The scheduler loop through a MariaDB restart, seen through a TCP proxy
that drops every connection and refuses new ones, then comes back."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from external_orders.services.scheduler import Scheduler
from external_orders.simulators.san6 import SimulatorState
from external_orders.tasks.registry import all_tasks
from tests.integration.retry_support import (
    generated_orders,
    import_orders,
    log_messages,
    seed_due_retries,
    statuses,
)

RETRY = "external_orders.export_retry"


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; ``down()`` plays a restart."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        """Close the listener and every forwarded connection."""
        if self.listener is not None:
            # shutdown() wakes the accepting thread; close() alone would not.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = make_url(database_url)
    forwarder = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
    forwarder.up()
    yield forwarder
    forwarder.down()


@pytest.mark.parametrize("database_url", ["mysql"], indirect=True)
def test_the_loop_survives_a_database_restart(
    configured: Services,
    simulator: SimulatorState,
    proxy: TcpProxy,
    clock: FrozenClock,
) -> None:
    """Down before the first run and again mid-life: logged, waited out, resumed."""
    orders = generated_orders(6)
    import_orders(configured, orders)
    url = make_url(configured.settings.database_url).set(port=proxy.port)
    settings = configured.settings.model_copy(
        update={"database_url": url.render_as_string(hide_password=False)}
    )
    settings.worker_poll_seconds = 0.05
    through_proxy = Services(settings, clock=clock)
    scheduler = Scheduler(through_proxy, instance="outage-test")
    scheduler.tasks = {RETRY: all_tasks()[RETRY]}
    stop = threading.Event()
    loop = threading.Thread(target=scheduler.run_forever, args=(stop,))
    log = configured.settings.log_file

    def outages() -> int:
        return sum(
            line["message"] == "Scheduler database unavailable."
            for line in log_messages(log)
        )

    def idle() -> bool:
        return configured.scheduled_tasks.get(RETRY).claimed_by is None

    def sent() -> Any:
        return statuses(configured.engine).get("sent", 0)

    try:
        proxy.down()
        seed_due_retries(configured.engine, orders[:3], clock.now())
        loop.start()
        wait_for(lambda: outages() >= 1, "first outage logged")
        proxy.up()
        wait_for(lambda: sent() == 3, "three retries sent after the restart")
        wait_for(lambda: idle(), "the task run closed")

        proxy.down()
        clock.advance(seconds=61)
        seed_due_retries(configured.engine, orders[3:], clock.now())
        seen = outages()
        wait_for(lambda: outages() > seen, "second outage logged")
        proxy.up()
        wait_for(lambda: sent() == 6, "three more sent after the second restart")
    finally:
        stop.set()
        loop.join(30)
        through_proxy.close()

    assert not loop.is_alive()
    messages = [line["message"] for line in log_messages(log)]
    assert messages.count("Scheduler recovered.") == 2
    assert len(simulator.requests()) == 6
    assert statuses(configured.engine) == {"failed": 6, "sent": 6}
