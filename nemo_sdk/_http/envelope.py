"""Decode the API's two response envelopes into data, or into a typed error.

Pure code (no I/O) so it can be tested and fuzzed without a server.
API.md, "Response envelopes" and "Error codes".
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

from .. import errors
from .._util.logging import redact

REQUEST_ID_HEADERS = ("X-Request-Id", "X-Trace-Id", "X-Amzn-RequestId")

_CODE_ERRORS: dict[int, type[errors.APIError]] = {
    1001: errors.AuthenticationError,
    1002: errors.SessionNotFoundError,
    2001: errors.InsufficientCreditsError,
    4001: errors.UnsupportedFileTypeError,
    4002: errors.FileTooLargeError,
}


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN, inf
        return None
    return max(0.0, seconds)


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The server's id for a request, from the first request-id header it sent."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _loads(body: bytes) -> Any:
    # An empty or blank body fails to parse like any other non-JSON: ``None``.
    try:
        # UTF-8 first, as APIs send it: ``json.loads(bytes)`` would first sniff the
        # encoding on every call. Anything else (a BOM, UTF-16) gets the sniffing below.
        return json.loads(body.decode())
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _message(doc: Any, fallback: str) -> str:
    # The server's words go into exception messages: a token it echoes is redacted.
    if isinstance(doc, dict):
        for key in ("message", "error", "msg", "detail"):
            value = doc.get(key)
            if isinstance(value, str) and value:
                return redact(value[:2000])
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return redact(str(value["message"])[:2000])
    return fallback


def _int_code(doc: Any) -> int | None:
    if not isinstance(doc, dict):
        return None
    code = doc.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, float) and code.is_integer() and abs(code) < 2**53:
        return int(code)  # 1001.0: a JSON number is a JSON number
    if isinstance(code, str):
        text = code.strip()
        digits = text[1:] if text.startswith("-") else text
        # ASCII digits only ("²".isdigit() is true), and short: int() refuses 4,300+ digits.
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:
            return int(text)
    return None


def _data_field(doc: Any, name: str) -> Any:
    if isinstance(doc, dict):
        if name in doc:
            return doc[name]
        data = doc.get("data")
        if isinstance(data, dict):
            return data.get(name)
    return None


def error_for(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    web_url: str = "",
    user_id: str | None = None,
) -> errors.APIError | None:
    """The typed error a response stands for, or ``None`` when it is a success."""
    return _classify(status, headers, body, _loads(body), web_url, user_id)


def _classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    doc: Any,
    web_url: str,
    user_id: str | None,
) -> errors.APIError | None:
    code = _int_code(doc)
    if (
        200 <= status < 300
        and isinstance(doc, dict)
        and not code
        and doc.get("success") is not False
    ):
        return None  # the common case, before the (redacted) error details are built
    common: dict[str, Any] = {
        "status": status,
        # A body "code" that only repeats the HTTP status is no API code (API.md's are
        # 1001, 1002, 2001, 4001, 4002): ``code`` is None then, as when there is none.
        "code": None if code == status and code not in _CODE_ERRORS else code,
        "request_id": request_id_of(headers),
        "body": redact(_text(body[:4000])),
    }
    if status == 429 or code == 429:
        limit = _data_field(doc, "limit")
        return errors.RateLimitError(
            _message(doc, "rate limited"),
            retry_after=parse_retry_after(headers.get("Retry-After")),
            limit=limit if isinstance(limit, str) else None,
            **common,
        )
    if status == 402:
        return errors.ExportBlockedError(
            _message(doc, "export blocked")
            + " — by the plan, not by credits: a registered token with the render scope"
            " (NEMO_TOKEN) can export",
            **common,
        )
    if code in _CODE_ERRORS and code is not None:
        cls = _CODE_ERRORS[code]
        message = _message(doc, f"API error {code}")
        if cls is errors.InsufficientCreditsError:
            uid = _data_field(doc, "user_id")
            uid = uid if isinstance(uid, str) and uid else user_id
            link = (
                f"{web_url.rstrip('/')}/register?bind={uid}"
                if uid and uid.startswith("anon_")
                else None
            )
            if link:
                message += f" — register to get more credits: {link}"
            return errors.InsufficientCreditsError(
                message, user_id=uid, register_url=link, **common
            )
        return cls(message, **common)
    if status == 401:
        return errors.AuthenticationError(_message(doc, "unauthorized"), **common)
    if status >= 500:
        return errors.ServerError(_message(doc, f"server error {status}"), **common)
    if status == 404:
        # An Agent Development Kit server's answer for an unknown session (FastAPI's shape).
        detail = doc.get("detail") if isinstance(doc, dict) else None
        if isinstance(detail, str) and detail.startswith("Session not found"):
            return errors.SessionNotFoundError(_message(doc, "session not found"), **common)
        return errors.NotFoundError(_message(doc, "not found"), **common)
    if status < 200:  # an informational status is never a final answer
        return errors.InvalidResponseError(f"unexpected HTTP {status}", **common)
    if 300 <= status < 400:
        where = headers.get("Location", "")
        return errors.APIError(
            f"unexpected redirect to {where!r}; not followed so the token stays on the API host",
            **common,
        )
    if status >= 400:
        return errors.BadRequestError(_message(doc, f"HTTP {status}"), **common)
    # 2xx: the envelope decides.
    if doc is None or not isinstance(doc, dict):
        return errors.InvalidResponseError("the answer was not a JSON object", **common)
    if code is not None and code != 0:
        return errors.BadRequestError(_message(doc, f"API error {code}"), **common)
    if doc.get("success") is False:
        return errors.BadRequestError(_message(doc, "request failed"), **common)
    return None


def decode(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    web_url: str = "",
    user_id: str | None = None,
) -> dict[str, Any]:
    """The body of a successful answer, as a dict; raise the typed error otherwise."""
    doc = _loads(body)
    error = _classify(status, headers, body, doc, web_url, user_id)
    if error is not None:
        raise error
    assert isinstance(doc, dict)  # _classify refused anything else
    return doc


def data_of(doc: Mapping[str, Any]) -> Any:
    """The ``data`` member of either envelope (``{}`` when absent)."""
    data = doc.get("data")
    return {} if data is None else data


class reading:  # a class, not @contextmanager: every successful call enters one
    """Read a successful answer's data inside this block: a wrong shape is ``InvalidResponseError``.

    A server (or something pretending to be one) may answer ``code: 0`` with data of
    any shape; pydantic's, Python's and the recursion limit's complaints about it
    are not the caller's to catch.
    """

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if isinstance(exc, errors.NemoError) or not isinstance(exc, _SHAPE_ERRORS):
            return
        raise errors.InvalidResponseError(
            f"the {self.what} answer does not have the documented shape ({type(exc).__name__})"
        ) from exc


_SHAPE_ERRORS = (ValueError, TypeError, AttributeError, KeyError, RecursionError)
