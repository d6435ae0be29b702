"""The service log: one JSON object per line, to a file and to stderr.

Log calls are a stable sentence (operators ``rg`` for it) plus key/value
context passed as ``extra={"context": {...}}`` or through ``log_event``.
Every known secret is replaced by ``***`` in the written line, whatever
part of the record carried it.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOGGER_NAME = "external_orders"
logger = logging.getLogger(LOGGER_NAME)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secrets(values: Iterable[str | None]) -> None:
    """Make these values unprintable in any later log line."""
    with _secrets_lock:
        _secrets.update(value for value in values if value and len(value) >= 3)


def redact(text: str) -> str:
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
            "logger": record.name,
        }
        line.update(getattr(record, "context", {}) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, ensure_ascii=False, default=str))


def configure_logging(log_dir: Path, *, to_stderr: bool = True) -> Path:
    """Send the service log to ``log_dir/external-orders.log`` (and stderr)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "external-orders.log"
    formatter = JsonFormatter()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    # WatchedFileHandler reopens the file after logrotate moved it away.
    file_handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    file_handler.setFormatter(formatter)
    logger.addHandler(file_handler)
    if to_stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        logger.addHandler(stream)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return path


def log_event(message: str, *, level: int = logging.INFO, **context: Any) -> None:
    """Log ``message`` with ``context``; ``None`` values are left out."""
    fields = {key: value for key, value in context.items() if value is not None}
    logger.log(level, message, extra={"context": fields})
