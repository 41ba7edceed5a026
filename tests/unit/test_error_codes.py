"""``APIError.code`` is the envelope's API code, or None: never the HTTP status again."""

from __future__ import annotations

import json

from nemo_sdk import errors
from nemo_sdk._http.envelope import error_for


def _error(status: int, doc: object) -> errors.APIError:
    found = error_for(status, {}, json.dumps(doc).encode())
    assert found is not None
    return found


def test_export_blocked_carries_no_code_copied_from_the_status() -> None:
    exc = _error(402, {"code": 402, "message": "free plan export blocked"})
    assert isinstance(exc, errors.ExportBlocked)
    assert exc.code is None and exc.status == 402
    text = str(exc)
    assert text.count("402") == 1, text  # was "... (HTTP 402, code 402)"
    assert text.lower().count("export blocked") == 1, text


def test_server_error_code_is_none_when_it_repeats_the_status() -> None:
    exc = _error(500, {"code": 500, "message": "internal error"})
    assert isinstance(exc, errors.ServerError) and exc.code is None


def test_an_api_code_is_kept() -> None:
    exc = _error(200, {"code": 1002, "message": "session not found"})
    assert isinstance(exc, errors.SessionNotFoundError) and exc.code == 1002
    assert _error(500, {"code": 77, "message": "x"}).code == 77
