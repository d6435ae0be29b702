"""``POST /api/oauth/token``: OAuth2 client credentials, as Shopware's."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from external_orders.bootstrap import Services
from external_orders.entrypoints.api.schemas import UNAUTHORIZED, TokenBody, error
from external_orders.errors import InvalidInput

GRANT_TYPE = "client_credentials"
MAX_BODY_BYTES = 16 * 1024
# argon2 takes about 64 MiB and tens of milliseconds per verification: only
# this many run at once, the other token requests wait without a thread.
CONCURRENT_VERIFICATIONS = 4
FORM = "application/x-www-form-urlencoded"
PARAMETERS = ("grant_type", "client_id", "client_secret")

_CREDENTIALS_SCHEMA = {
    "type": "object",
    "required": ["grant_type", "client_id", "client_secret"],
    "properties": {
        "grant_type": {"type": "string", "enum": [GRANT_TYPE]},
        "client_id": {
            "type": "string",
            "minLength": 1,
            "description": "The access key id.",
        },
        "client_secret": {
            "type": "string",
            "minLength": 1,
            "description": "The secret access key.",
        },
    },
}
_OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {"schema": _CREDENTIALS_SCHEMA},
            "application/json": {"schema": _CREDENTIALS_SCHEMA},
        },
    }
}


def router(services: Services) -> APIRouter:
    routes = APIRouter(tags=["authentication"])
    limiter = anyio.CapacityLimiter(CONCURRENT_VERIFICATIONS)

    @routes.post(
        "/api/oauth/token",
        summary="Trade client credentials for an access token",
        response_model=TokenBody,
        responses={
            400: error("Not a client-credentials request (form or JSON)."),
            **UNAUTHORIZED,
        },
        openapi_extra=_OPENAPI_BODY,
    )
    async def token(request: Request) -> JSONResponse:
        """Answers a bearer token valid 600 s for an integration's credentials.

        Wrong secrets, unknown access keys and revoked integrations get the
        same 401 after the same hashing work.
        """
        fields = _fields(await _body(request), request.headers.get("content-type"))
        client_id, client_secret = _credentials(fields)

        issued = await anyio.to_thread.run_sync(
            services.auth.issue, client_id, client_secret, limiter=limiter
        )
        body = {
            "token_type": issued.token_type,
            "expires_in": issued.expires_in,
            "access_token": issued.value,
        }
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        return JSONResponse(body, headers=headers)

    return routes


async def _body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidInput(f"request body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _fields(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The request's parameters from a form or a JSON object."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the request body is not UTF-8") from None

    if media_type == "application/json":
        return _json_fields(text)
    if media_type in (FORM, ""):
        return _form_fields(text)
    raise InvalidInput(f"send the credentials as {FORM} or application/json")


def _json_fields(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidInput("the request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidInput("the request body must be a JSON object")
    return document


def _form_fields(text: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise InvalidInput("the request body is not a valid form") from None
    # Unknown parameters are ignored, but ours must not come twice (RFC 6749).
    counts = Counter(name for name, _value in pairs if name in PARAMETERS)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise InvalidInput(f"parameter {repeated[0]} given more than once")
    return dict(pairs)


def _credentials(fields: dict[str, Any]) -> tuple[str, str]:
    for name in PARAMETERS:
        value = fields.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{name} is required (a non-empty string)")
    if fields["grant_type"] != GRANT_TYPE:
        raise InvalidInput(f"grant_type must be {GRANT_TYPE}")
    return fields["client_id"], fields["client_secret"]
