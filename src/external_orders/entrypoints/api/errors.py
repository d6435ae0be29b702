"""The one place where outcomes become HTTP statuses and error bodies.

Every error answer is JSON ``{"message": ...}`` (a 401 also carries
Shopware's ``errors`` list and a ``WWW-Authenticate`` header). Messages come
from ``external_orders.errors``, which never put a secret in them, and pass
through the log redaction once more; nothing answers a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from external_orders import errors
from external_orders.domain.attempt import Attempt, Status
from external_orders.logs import log_event, redact

WWW_AUTHENTICATE = 'Bearer realm="external-orders"'
# The exporter stores San6ConfigInvalid's message as last_error of the
# failed_permanent attempt it writes for invalid settings.
INVALID_CONFIG_PREFIX = errors.San6ConfigInvalid.PREFIX

_STATUS_OF_ERROR: list[tuple[type[errors.ExternalOrdersError], int]] = [
    (errors.InvalidInput, 400),
    (errors.Unauthorized, 401),
    (errors.OrderNotFound, 404),
    (errors.ExportNotFound, 404),
    (errors.IntegrationNotFound, 404),
    (errors.TaskNotFound, 404),
    (errors.ExportRefused, 409),
    (errors.San6Unavailable, 502),
    (errors.SendingDisabled, 503),
    (errors.San6ConfigInvalid, 503),
    (errors.SigningUnavailable, 503),
    (errors.OrderSourceUnavailable, 503),
]
_PHRASES = {
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    500: "internal error",
}


def status_of_error(error: errors.ExternalOrdersError) -> int:
    for kind, status in _STATUS_OF_ERROR:
        if isinstance(error, kind):
            return status
    return 500


def status_of_export(attempt: Attempt) -> int:
    """200 sent; 503 invalid SAN6 settings; 502 any other failed attempt."""
    if attempt.status is Status.SENT:
        return 200
    invalid_config = (attempt.last_error or "").startswith(INVALID_CONFIG_PREFIX)
    if attempt.status is Status.FAILED_PERMANENT and invalid_config:
        return 503
    return 502


def error_body(status: int, message: str) -> dict[str, Any]:
    body: dict[str, Any] = {"message": redact(message)}
    if status == 401:
        # Shopware's Admin API answers JSON:API errors; its clients read these.
        body["errors"] = [
            {"status": "401", "title": "Unauthorized", "detail": body["message"]}
        ]
    return body


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", WWW_AUTHENTICATE)
    return JSONResponse(error_body(status, message), status, headers=headers)


def not_found() -> JSONResponse:
    """The answer for anything that does not exist or must not be told apart."""
    return error_response(404, _PHRASES[404])


def internal_error() -> JSONResponse:
    return error_response(500, _PHRASES[500])


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.ExternalOrdersError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sa.exc.SQLAlchemyError, _database_error)


async def _service_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, errors.ExternalOrdersError)
    status = status_of_error(error)
    if status == 401:
        headers = {"WWW-Authenticate": _challenge(error)}
        return error_response(status, str(error), headers)
    return error_response(status, str(error))


def _challenge(error: errors.ExternalOrdersError) -> str:
    if isinstance(error, errors.InvalidAccessToken) and error.problem != "missing":
        return WWW_AUTHENTICATE + ', error="invalid_token"'
    return WWW_AUTHENTICATE


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return error_response(400, _validation_message(error))


def _validation_message(error: RequestValidationError) -> str:
    problems = []
    for problem in list(error.errors())[:3]:
        location = ".".join(str(part) for part in problem.get("loc", ())[1:])
        problems.append(f"{location or 'request'}: {problem.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid request"


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    message = _PHRASES.get(error.status_code) or str(error.detail).lower()
    return error_response(error.status_code, message, dict(error.headers or {}))


async def _database_error(_request: Request, error: Exception) -> JSONResponse:
    problem = str(getattr(error, "orig", None) or error).splitlines()[0]
    log_event(
        "Admin API database error.",
        level=logging.ERROR,
        error=f"{type(error).__name__}: {problem}",
    )
    return error_response(503, "database unavailable")
