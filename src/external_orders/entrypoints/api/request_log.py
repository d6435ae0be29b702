"""One log line per HTTP request, and the last guard against tracebacks.

The logged path never carries a file-transfer token (it is a credential);
query strings and headers are not logged at all. Successful probes
(``/healthz``, ``/readyz``, ``/metrics``) are not logged, so that they do
not drown the export lines.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from external_orders.adapters.signing import PATH_PREFIX
from external_orders.entrypoints.api.errors import internal_error
from external_orders.logs import log_event

QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_log = logging.getLogger(__name__)


def shown_path(path: str) -> str:
    """``path`` fit for the log: a file-transfer token becomes ``***``."""
    if path.startswith(PATH_PREFIX):
        return PATH_PREFIX + "***"
    return path[:200]


class RequestLog:
    """ASGI middleware: logs each request; answers 500 for an escaped error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status = 500
        response_started = False

        async def watched_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            # Logged here (redacted by the log formatter), never answered.
            _log.exception("Admin API request failed.")
            status = 500
            if not response_started:
                await internal_error()(scope, receive, send)
        finally:
            self._log(scope, status, time.perf_counter() - started)

    def _log(self, scope: Scope, status: int, seconds: float) -> None:
        path = scope.get("path", "")
        if path in QUIET_PATHS and status < 400:
            return
        log_event(
            "HTTP request handled.",
            level=logging.WARNING if status >= 500 else logging.INFO,
            method=scope.get("method"),
            path=shown_path(path),
            status=status,
            durationMs=round(seconds * 1000, 1),
        )
