"""Runs an ASGI app on a free loopback port in a background thread.

For tests and local stand-ins (SAN6, Shopware, the HTTP API): real HTTP on
127.0.0.1 without a fixed port, started and stopped from the calling thread.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"


class BackgroundServer:
    """One uvicorn server in a daemon thread; start once, stop once.

    ``url`` (``http://127.0.0.1:<port>``) is known once ``start`` returned.
    Logging is left as the host process configured it: uvicorn logs at
    warning level and writes no access log.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        start_timeout: float = 10.0,
        shutdown_timeout: int = 2,
    ) -> None:
        self._app = app
        self._start_timeout = start_timeout
        self._shutdown_timeout = shutdown_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The server's base URL, without a trailing slash."""
        if self._url is None:
            raise RuntimeError("the server has not been started")
        return self._url

    def start(self) -> BackgroundServer:
        """Starts serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the server was already started")
        self._socket = _bound_socket()
        self._server = uvicorn.Server(self._config())

        self._thread = threading.Thread(
            target=_run,
            args=(self._server, self._socket),
            name="background-server",
            daemon=True,
        )
        self._thread.start()

        self._wait_until_started(self._server, self._thread)
        port = self._socket.getsockname()[1]
        self._url = f"http://{HOST}:{port}"
        return self

    def stop(self) -> None:
        """Stops serving, lets running requests finish briefly, and joins."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(self._shutdown_timeout + 5.0)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(5.0)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self._app,
            log_config=None,
            log_level="warning",
            access_log=False,
            ws="none",
            lifespan="auto",
            timeout_graceful_shutdown=self._shutdown_timeout,
        )

    def _wait_until_started(
        self, server: uvicorn.Server, thread: threading.Thread
    ) -> None:
        deadline = time.monotonic() + self._start_timeout
        while not server.started:
            if not thread.is_alive():
                self.stop()
                raise RuntimeError("the server stopped while starting")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server did not start in time")
            time.sleep(0.005)


def _run(server: uvicorn.Server, listener: socket.socket) -> None:
    # uvicorn exits when the app fails to start; start() reports that.
    with contextlib.suppress(SystemExit):
        server.run(sockets=[listener])


def _bound_socket() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: without it every answer waits ~40 ms for
    # the client's delayed ACK (uvicorn writes headers and body separately).
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind((HOST, 0))
    listener.listen(128)
    return listener
