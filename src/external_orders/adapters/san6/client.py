"""Sends an AuftragNeu2 document to the SAN6 write API.

The one place that speaks HTTP to SAN6. httpx errors, timeouts and 5xx
answers become ``San6Unavailable``; every other answer is parsed into a
``San6Answer``. The API secret travels in the query string, so every text
that leaves this module (exception messages, answers, httpx's own log
lines) is stripped of it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from types import TracebackType

import httpx

from external_orders.adapters.san6.answer import San6Answer, parse_answer
from external_orders.adapters.san6.url import build_request_url, redact
from external_orders.domain.san6_config import (
    BASE_URL,
    MASK,
    San6Config,
    SendStrategy,
)
from external_orders.errors import San6ConfigInvalid, San6Unavailable, SendingDisabled

logger = logging.getLogger(__name__)

USER_AGENT = "external-orders"
HTTP_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)

_SECRET_PARAM = re.compile(r"(authentifizierung=)[^&\s\"'>]*", re.IGNORECASE)
_ERRNO_PREFIX = re.compile(r"^\[Errno -?\d+\]\s*")
_REASON_LENGTH = 200


class San6Client:
    """A connection-reusing SAN6 client; one instance may serve many threads.

    Redirects are not followed: a redirected request would carry the secret
    to wherever SAN6 points, so a 3xx answer is returned as it is.
    """

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        _mask_secrets_in_http_logs()
        self._http = httpx.Client(
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def send(
        self, config: San6Config, xml: str, file_transfer_url: str | None = None
    ) -> San6Answer:
        """Writes one order and returns SAN6's answer.

        ``post-xml`` posts ``xml``; ``filetransferurl`` asks SAN6 to download
        it from ``file_transfer_url`` (ValueError if missing). Raises
        ``SendingDisabled`` for strategy ``disabled``, ``San6Unavailable``
        (with ``duration_seconds``) when SAN6 timed out, could not be
        reached or answered 5xx. A timeout while reading means SAN6 may have
        taken the order all the same.
        """
        request = self._build_request(config, xml, file_transfer_url)
        secrets = [config.authentifizierung]

        started = time.perf_counter()
        try:
            response = self._http.send(request)
        except httpx.RequestError as error:
            raise _unavailable(error, config, started) from _safe_cause(error, secrets)
        duration = time.perf_counter() - started

        logger.debug(
            "SAN6 answered",
            extra={"http_status": response.status_code, "duration": duration},
        )
        if response.status_code >= 500:
            problem = f"SAN6 answered HTTP {response.status_code}"
            raise San6Unavailable(problem, duration)
        return _answer(response, duration, secrets)

    def close(self) -> None:
        """Closes the pooled connections; the client is unusable afterwards."""
        self._http.close()

    def __enter__(self) -> San6Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _build_request(
        self, config: San6Config, xml: str, file_transfer_url: str | None
    ) -> httpx.Request:
        if config.strategy is SendStrategy.DISABLED:
            raise SendingDisabled()
        timeout = httpx.Timeout(config.timeout)

        if config.strategy is SendStrategy.POST_XML:
            url = build_request_url(config)
            headers = {"Content-Type": "application/xml"}
            content = xml.encode("utf-8")
            return self._request("POST", url, config, headers, content, timeout)

        if not file_transfer_url:
            raise ValueError("strategy filetransferurl needs a file_transfer_url")
        url = build_request_url(config, {"filetransferurl": file_transfer_url})
        return self._request("GET", url, config, {}, None, timeout)

    def _request(
        self,
        method: str,
        url: str,
        config: San6Config,
        headers: dict[str, str],
        content: bytes | None,
        timeout: httpx.Timeout,
    ) -> httpx.Request:
        try:
            return self._http.build_request(
                method, url, headers=headers, content=content, timeout=timeout
            )
        except httpx.InvalidURL as error:
            reason = _reason(error, [config.authentifizierung])
            raise San6ConfigInvalid([f"{BASE_URL} is not usable: {reason}"]) from None


def _answer(
    response: httpx.Response, duration: float, secrets: list[str]
) -> San6Answer:
    answer = parse_answer(response.content, response.status_code)
    return dataclasses.replace(
        answer,
        body=redact(answer.body, secrets),
        message=None if answer.message is None else redact(answer.message, secrets),
        duration_seconds=duration,
    )


def _unavailable(
    error: httpx.RequestError, config: San6Config, started: float
) -> San6Unavailable:
    duration = time.perf_counter() - started
    if isinstance(error, httpx.TimeoutException):
        phase = _timeout_phase(error)
        problem = f"SAN6 timed out after {config.timeout:g} s ({phase})"
    elif isinstance(error, httpx.ConnectError):
        problem = "SAN6 unreachable: " + _reason(error, [config.authentifizierung])
    else:
        problem = "SAN6 transport error: " + _reason(error, [config.authentifizierung])
    return San6Unavailable(problem, duration)


def _timeout_phase(error: httpx.TimeoutException) -> str:
    phases: dict[type[httpx.TimeoutException], str] = {
        httpx.ConnectTimeout: "connect",
        httpx.ReadTimeout: "read",
        httpx.WriteTimeout: "write",
        httpx.PoolTimeout: "pool",
    }
    return phases.get(type(error), "request")


def _reason(error: Exception, secrets: list[str]) -> str:
    """The library's short explanation, lower-cased, secret-free, capped."""
    text = _ERRNO_PREFIX.sub("", str(error)).strip() or type(error).__name__
    text = redact(_SECRET_PARAM.sub(rf"\g<1>{MASK}", text), secrets)
    text = text[:1].lower() + text[1:]
    if len(text) > _REASON_LENGTH:
        return text[: _REASON_LENGTH - 3] + "..."
    return text


def _safe_cause(error: BaseException, secrets: list[str]) -> BaseException | None:
    """``error`` to chain from, or None when its chain would show a secret."""
    link: BaseException | None = error
    seen: set[int] = set()
    while link is not None and id(link) not in seen:
        if redact(str(link), secrets) != str(link):
            return None
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return error


class _MaskSecretParameter(logging.Filter):
    """Masks the ``authentifizierung`` query value in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _SECRET_PARAM.sub(rf"\g<1>{MASK}", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _mask_secrets_in_http_logs() -> None:
    """Installs the mask once on the loggers httpx writes request URLs to."""
    for name in HTTP_LOGGERS:
        http_logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskSecretParameter) for f in http_logger.filters):
            http_logger.addFilter(_MaskSecretParameter())
