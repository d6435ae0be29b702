"""``external-orders serve``: the HTTP API on uvicorn, and the scheduled tasks."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from external_orders.bootstrap import Services
from external_orders.domain.san6_config import SEND_STRATEGY, SendStrategy
from external_orders.entrypoints.cli.context import services
from external_orders.entrypoints.cli.errors import CommandFailed
from external_orders.errors import AppSecretRequired
from external_orders.logs import LOGGER_NAME, log_event

if TYPE_CHECKING:
    import uvicorn

WORKER_JOIN_SECONDS = 30.0
GRACEFUL_SHUTDOWN_SECONDS = 10


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Do not run the scheduled tasks in this process."
    ),
) -> None:
    """Serve the Admin API, the file transfer and the probes until stopped.

    Also runs the scheduled tasks (retries, new orders, alerts) unless
    --no-worker. SIGTERM or Ctrl-C stops it gracefully (exit 0).
    """
    built = services()
    refuse_unsafe_start(built)
    listener = listen(host, port)
    # Built now so that a per-process token key is warned about at start.
    _token_service = built.auth
    stop = threading.Event()
    previous = _handle_stop_signals(stop)

    worker = None if no_worker else start_worker(built, stop)
    try:
        print(f"external-orders API on http://{host}:{port}/ (docs /docs)", flush=True)
        log_event("HTTP API started.", host=host, port=port, worker=bool(worker))
        if not stop.is_set():  # a signal during start-up means: do not serve
            _server(built, host, port).run(sockets=[listener])
    finally:
        stop.set()
        if worker is not None:
            worker.join(WORKER_JOIN_SECONDS)
        listener.close()
        _restore(previous)
        log_event("HTTP API stopped.", host=host, port=port)


def refuse_unsafe_start(built: Services) -> None:
    """Raises ``AppSecretRequired`` when filetransferurl has no signing key,
    and ``InvalidSetting`` when the order source is not fully configured."""
    built.orders  # noqa: B018 - builds the source, naming a missing variable
    strategy = built.config.all().get(SEND_STRATEGY, "").strip()
    if strategy == SendStrategy.FILETRANSFERURL.value and built.signer is None:
        raise AppSecretRequired(
            f"{SEND_STRATEGY} is {strategy}, whose download URLs it signs; "
            "set it (a long random value) or choose post-xml"
        )


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or one clear line when the address is unusable."""
    try:
        family, kind, _proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        listener = socket.socket(family, kind)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        reason = error.strerror or str(error)
        raise CommandFailed(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


def start_worker(built: Services, stop: threading.Event) -> threading.Thread:
    """The scheduler in a background thread, until ``stop`` is set."""
    # Imported here: `serve --no-worker` does not load the scheduled tasks.
    from external_orders.services.scheduler import Scheduler

    thread = threading.Thread(
        target=Scheduler(built).run_forever,
        args=(stop,),
        name="scheduler",
        daemon=True,
    )
    thread.start()
    return thread


def _server(built: Services, host: str, port: int) -> uvicorn.Server:
    import uvicorn  # here: the other commands need not pay for its import

    from external_orders.entrypoints.api.app import create_app

    _log_uvicorn_as_json()
    config = uvicorn.Config(
        create_app(built),
        host=host,
        port=port,
        # Our own request log hides file-transfer tokens; uvicorn's would not.
        access_log=False,
        log_config=None,
        log_level="warning",
        ws="none",
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(config)


def _log_uvicorn_as_json() -> None:
    """uvicorn's own warnings (bad requests, shutdown) go to the service log."""
    uvicorn_log = logging.getLogger("uvicorn")
    uvicorn_log.handlers = list(logging.getLogger(LOGGER_NAME).handlers)
    uvicorn_log.propagate = False


_Handler = Callable[[int, FrameType | None], Any] | int | None


def _handle_stop_signals(stop: threading.Event) -> dict[int, _Handler]:
    """Handlers uvicorn hands the signal back to after its graceful shutdown.

    Without them uvicorn re-raises SIGTERM with the default handler once it
    has stopped, which would kill the process before the worker is joined.
    """

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    stop_signals = (signal.SIGINT, signal.SIGTERM)
    return {sig: signal.signal(sig, on_signal) for sig in stop_signals}


def _restore(previous: dict[int, _Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def register(app: typer.Typer) -> None:
    """Adds the commands of the HTTP API: serve, integration, signed-url."""
    from external_orders.entrypoints.cli import integration_cmd, signed_url_cmd

    app.command("serve")(serve)
    app.add_typer(integration_cmd.app, name="integration")
    signed_url_cmd.register(app)
