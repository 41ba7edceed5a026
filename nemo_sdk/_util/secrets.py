"""Keeping bearer tokens out of every text the SDK makes: messages, bodies, logs, causes.

Two nets. Patterns catch what looks like a token (``Bearer …``, ``nmv_…``) even
when the SDK never saw it; the exact values of the tokens this process uses catch
a token of any other shape (``sk_live_…``, a JWT, base64 with ``+/=``) that a
server echoes back. :func:`remember` adds a value; every token the client holds is
remembered the moment it holds it.

:func:`scrub_exception` cleans the low-level errors (aiohttp's) that the SDK's own
errors keep as ``__cause__``: ``ClientResponseError`` carries the request's headers,
``Authorization`` included, and prints them in its ``repr``.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["REDACTED", "redact", "remember", "scrub_exception"]

REDACTED = "[redacted]"

_PATTERNS = re.compile(r"(Bearer\s+)\S+|\bnmv_[A-Za-z0-9_\-.]+", re.IGNORECASE)
# Shorter values are not redacted by value: replacing every "abc" in a message would
# garble it, and no service issues tokens that short (the patterns still apply).
_MIN_LENGTH = 8
_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_lock = threading.Lock()
_known: set[str] = set()
_values: re.Pattern[str] | None = None


def remember(token: str | None) -> None:
    """Redact ``token`` by value from now on, in the forms a server may echo it in."""
    global _values
    if not token or len(token) < _MIN_LENGTH or token in _known:
        return
    # As sent, JSON-escaped (a "/" may come back as "\/"), and percent-encoded.
    forms = {token, json.dumps(token)[1:-1], token.replace("/", "\\/"), quote(token, safe="")}
    with _lock:
        _known.add(token)
        new = forms - _known
        _known.update(new)
        ordered = sorted(_known, key=len, reverse=True)  # the longest form first
        _values = re.compile("|".join(map(re.escape, ordered)))


def redact(text: str) -> str:
    """``text`` with every known token value and token-like pattern as ``[redacted]``."""
    values = _values
    if values is not None:
        text = values.sub(REDACTED, text)
    return _PATTERNS.sub(lambda m: (m.group(1) or "") + REDACTED, text)


def _clean_headers(headers: Mapping[str, str]) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(
        CIMultiDict(
            (k, REDACTED if k.lower() in _SENSITIVE_HEADERS else redact(v))
            for k, v in headers.items()
        )
    )


def _is_request_info(value: object) -> bool:
    # aiohttp's RequestInfo (a named tuple of url, method, headers, real_url), known by
    # its shape: this module stays free of any HTTP library.
    return isinstance(value, tuple) and hasattr(value, "real_url") and hasattr(value, "headers")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if _is_request_info(value):
        return type(value)(value.url, value.method, _clean_headers(value.headers), value.real_url)
    if isinstance(value, CIMultiDict | CIMultiDictProxy):
        return _clean_headers(value)
    return value


def scrub_exception(exc: BaseException) -> None:
    """Redact, in place, the args and attributes of ``exc`` and of its causes and contexts.

    The exceptions keep their types (callers test ``isinstance(exc.__cause__, ...)``);
    only text that could hold a token changes.
    """
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        response_error: Any = current
        if hasattr(current, "history") and _is_request_info(getattr(current, "request_info", None)):
            # aiohttp's ClientResponseError: no redirect is followed, so the history
            # only repeats the request info.
            response_error.history = ()
            response_error.args = (response_error.request_info, ())
        attrs = getattr(current, "__dict__", None)
        if attrs:
            for name, value in list(attrs.items()):
                if isinstance(value, BaseException):  # aiohttp keeps the OSError it wraps
                    stack.append(value)
                    continue
                cleaned = _clean(value)
                if cleaned is not value:
                    with contextlib.suppress(AttributeError, TypeError):
                        setattr(current, name, cleaned)
        with contextlib.suppress(AttributeError, TypeError):
            current.args = tuple(_clean(arg) for arg in current.args)
        if isinstance(current, OSError):  # its text comes from these, not from ``args``
            for name in ("strerror", "filename", "filename2"):
                value = getattr(current, name)
                if isinstance(value, str):
                    setattr(current, name, redact(value))
        stack += [a for a in current.args if isinstance(a, BaseException)]
        stack += [e for e in (current.__cause__, current.__context__) if e is not None]
