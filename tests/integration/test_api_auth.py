"""OAuth2 client credentials and bearer tokens over real HTTP."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest

from external_orders.bootstrap import Services
from external_orders.clock import FrozenClock
from tests.integration.api_support import ACTION, Api, running_api

TOKEN_URL = "/api/oauth/token"
PROTECTED = [
    ("POST", f"{ACTION}/export/{uuid.uuid4().hex}"),
    ("GET", f"{ACTION}/export-status/{uuid.uuid4().hex}"),
    ("GET", f"{ACTION}/exports"),
]


@pytest.fixture
def api(services: Services) -> Iterator[Api]:
    with running_api(services) as running:
        yield running


def grant(client_id: str, client_secret: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }


def assert_unauthorized(answer: httpx.Response) -> None:
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    body = answer.json()
    assert body["message"]
    assert body["errors"][0]["status"] == "401"


def test_form_credentials_give_a_bearer_token_for_600_seconds(api: Api) -> None:
    """A form with client credentials answers token_type, expires_in, token."""
    client_id, client_secret = api.credentials()

    answer = api.http.post(TOKEN_URL, data=grant(client_id, client_secret))

    assert answer.status_code == 200
    body = answer.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 600)
    assert body["access_token"]
    assert answer.headers["cache-control"] == "no-store"


def test_json_credentials_give_a_token_that_opens_the_action_routes(
    api: Api,
) -> None:
    """A JSON body works too, and its token is accepted by /api/_action."""
    client_id, client_secret = api.credentials()

    answer = api.http.post(TOKEN_URL, json=grant(client_id, client_secret))
    token = answer.json()["access_token"]
    listed = api.http.get(f"{ACTION}/exports", headers=api.bearer(token))

    assert answer.status_code == 200
    assert listed.status_code == 200


def test_token_issue_marks_the_integration_used(api: Api, clock: FrozenClock) -> None:
    """A successful token request sets last_used_at."""
    client_id, client_secret = api.credentials()

    api.http.post(TOKEN_URL, data=grant(client_id, client_secret))

    [integration] = api.services.integrations.all()
    assert integration.last_used_at is not None


def test_wrong_secret_and_unknown_client_get_the_same_401(api: Api) -> None:
    """Wrong secret, unknown access key: one 401 answer, nothing to tell apart."""
    client_id, client_secret = api.credentials()

    wrong = api.http.post(TOKEN_URL, data=grant(client_id, client_secret + "x"))
    unknown = api.http.post(TOKEN_URL, data=grant("SWIA" + "A" * 26, client_secret))

    assert_unauthorized(wrong)
    assert_unauthorized(unknown)
    assert wrong.json() == unknown.json()


def test_revoked_integration_gets_no_token_and_its_tokens_stop(api: Api) -> None:
    """After revoke, the credentials give 401 and an issued token too."""
    client_id, client_secret = api.credentials()
    token = api.http.post(TOKEN_URL, data=grant(client_id, client_secret)).json()[
        "access_token"
    ]

    api.services.integrations.revoke(client_id)
    again = api.http.post(TOKEN_URL, data=grant(client_id, client_secret))
    used = api.http.get(f"{ACTION}/exports", headers=api.bearer(token))

    assert_unauthorized(again)
    assert_unauthorized(used)
    assert "revoked" in used.json()["message"]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_action_routes_need_a_bearer_token(api: Api, method: str, path: str) -> None:
    """Without Authorization every /api/_action route answers 401 and a challenge."""
    answer = api.http.request(method, path)

    assert_unauthorized(answer)
    assert answer.headers["www-authenticate"] == 'Bearer realm="external-orders"'


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Token x"],
)
def test_bad_authorization_headers_answer_401(api: Api, authorization: str) -> None:
    """Other schemes, empty and malformed bearer tokens all answer 401."""
    answer = api.http.get(f"{ACTION}/exports", headers={"Authorization": authorization})

    assert_unauthorized(answer)


def test_token_expires_after_600_seconds(api: Api, clock: FrozenClock) -> None:
    """A token works 599 s after issue and answers 401 expired at 600 s."""
    token = api.token()

    clock.advance(seconds=599)
    still = api.http.get(f"{ACTION}/exports", headers=api.bearer(token))
    clock.advance(seconds=1)
    expired = api.http.get(f"{ACTION}/exports", headers=api.bearer(token))

    assert still.status_code == 200
    assert_unauthorized(expired)
    assert expired.json()["message"] == "access token expired"
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]


def test_tampered_and_foreign_tokens_answer_401(api: Api) -> None:
    """A changed claim, another key or alg none never authenticates."""
    token = api.token()
    claims = jwt.decode(token, options={"verify_signature": False})
    header, _payload, signature = token.split(".")
    forged_claims = {**claims, "sub": uuid.uuid4().hex}
    forged = jwt.encode(forged_claims, "x" * 32, algorithm="HS256").split(".")[1]
    unsigned = jwt.encode(claims, None, algorithm="none")
    foreign = jwt.encode(claims, "another-key-" * 4, algorithm="HS256")

    for bad in (f"{header}.{forged}.{signature}", unsigned, foreign):
        answer = api.http.get(f"{ACTION}/exports", headers=api.bearer(bad))
        assert_unauthorized(answer)


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        ("grant_type=password&client_id=a&client_secret=b", None, "grant_type"),
        ("grant_type=client_credentials&client_id=a", None, "client_secret"),
        ("grant_type=client_credentials&client_id=&client_secret=b", None, "client"),
        ("grant_type=client_credentials&grant_type=x&client_id=a", None, "once"),
        ("[1, 2]", "application/json", "JSON object"),
        ("{not json", "application/json", "JSON"),
        (
            '{"grant_type": "client_credentials", "client_id": 7}',
            "application/json",
            "client_id",
        ),
        ("<xml/>", "application/xml", "application/json"),
        ("a" * 20000, None, "larger"),
    ],
)
def test_malformed_token_requests_answer_400(
    api: Api, body: str, content_type: str | None, problem: str
) -> None:
    """Not a client-credentials request: 400 with a message naming the problem."""
    headers = {"Content-Type": content_type or "application/x-www-form-urlencoded"}

    answer = api.http.post(TOKEN_URL, content=body, headers=headers)

    assert answer.status_code == 400
    assert problem in answer.json()["message"]


def test_tokens_and_secrets_never_reach_the_log(api: Api) -> None:
    """The log file holds neither client secrets nor access tokens."""
    client_id, client_secret = api.credentials()
    token = api.http.post(TOKEN_URL, data=grant(client_id, client_secret)).json()[
        "access_token"
    ]
    api.http.post(TOKEN_URL, data=grant(client_id, "wrong-" + client_secret))
    api.http.get(f"{ACTION}/exports", headers=api.bearer(token))

    text = api.services.settings.log_file.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert client_secret not in text
    assert token not in text
    assert any(line["message"] == "Admin API access token issued." for line in lines)
