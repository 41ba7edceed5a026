"""Redaction by exact value: every form a server may echo a known token in (pure code)."""

from __future__ import annotations

import json
from urllib.parse import quote

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from nemo_sdk._util.secrets import redact, remember, scrub_exception

TOKEN = "tok/with+base64=chars/and more"


def test_a_remembered_token_is_redacted_in_every_echoed_form() -> None:
    remember(TOKEN)
    for form in (TOKEN, json.dumps(TOKEN)[1:-1], TOKEN.replace("/", "\\/"), quote(TOKEN, safe="")):
        assert redact(f"server says: {form}!") == "server says: [redacted]!"
    assert redact("nothing secret here") == "nothing secret here"


def test_short_values_are_not_redacted_by_value_but_patterns_still_apply() -> None:
    remember("abc")
    assert redact("abc def") == "abc def"
    assert redact("Authorization: Bearer abc") == "Authorization: Bearer [redacted]"


def test_scrub_cleans_request_headers_and_nested_causes_in_place() -> None:
    remember(TOKEN)
    headers = CIMultiDictProxy(CIMultiDict({"Authorization": f"Bearer {TOKEN}", "X-A": "1"}))
    info = aiohttp.RequestInfo(URL("http://h/x"), "GET", headers, URL("http://h/x"))
    inner = OSError(5, f"echo {TOKEN}")
    error = aiohttp.ClientResponseError(info, (), status=400, message=f"bad {TOKEN}")
    error.__cause__ = inner
    scrub_exception(error)
    assert isinstance(error, aiohttp.ClientResponseError)  # the type is kept
    for text in (repr(error), str(error), repr(error.args), repr(inner), str(inner)):
        assert TOKEN not in text and "Bearer tok" not in text
    assert error.request_info.headers["X-A"] == "1"
