"""The bearer-token check of every ``/api/_action/...`` route."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from external_orders.adapters.db.integrations import Integration
from external_orders.bootstrap import Services
from external_orders.errors import InvalidAccessToken

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An access token from `POST /api/oauth/token` (client "
    "credentials of an integration made with `external-orders integration "
    "create`), valid 600 seconds.",
)

Authenticated = Callable[..., Integration]


def bearer_dependency(services: Services) -> Authenticated:
    """A dependency giving the active integration of the request's token.

    It raises ``InvalidAccessToken`` (401) when the header is missing, is
    not ``Bearer``, or carries an invalid, expired or revoked token. It is a
    plain function, so FastAPI runs its database read in the thread pool.
    """

    def authenticated(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Integration:
        if credentials is None:
            raise InvalidAccessToken("missing")
        return services.auth.authenticate(credentials.credentials)

    return authenticated
