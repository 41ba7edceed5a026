"""The envelope decoder, without a server."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nemo_sdk import errors
from nemo_sdk._http.envelope import decode, error_for, parse_retry_after


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_code_envelope_success() -> None:
    doc = decode(200, {}, body({"code": 0, "message": "ok", "data": {"x": 1}}))
    assert doc["data"] == {"x": 1}


def test_render_envelope_success_and_failure() -> None:
    assert decode(200, {}, body({"success": True, "data": {"id": "r"}}))["data"]["id"] == "r"
    with pytest.raises(errors.BadRequestError, match="duplicate"):
        decode(200, {}, body({"success": False, "error": "duplicate id"}))


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (1001, errors.AuthenticationError),
        (1002, errors.SessionNotFoundError),
        (2001, errors.InsufficientCreditsError),
        (4001, errors.UnsupportedFileType),
        (4002, errors.FileTooLarge),
        (9999, errors.BadRequestError),
    ],
)
def test_code_errors_even_with_http_200(code: int, cls: type[errors.APIError]) -> None:
    err = error_for(200, {"X-Request-Id": "req_1"}, body({"code": code, "message": "m"}))
    assert type(err) is cls
    assert err.code == code and err.status == 200 and err.request_id == "req_1"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (402, errors.ExportBlocked),
        (404, errors.NotFoundError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (503, errors.ServerError),
        (302, errors.APIError),
    ],
)
def test_http_rules_with_non_json_bodies(status: int, cls: type[errors.APIError]) -> None:
    for raw in (b"", b"<html>bad gateway</html>", b"\xff\xfe"):
        err = error_for(status, {}, raw)
        assert type(err) is cls and err.status == status


def test_a_400_is_a_bad_request_whatever_its_words() -> None:
    # "Missing X-Client-Id" is the token call's rule, decided by the transport from the
    # status and the code (tests/hostile/test_client_id_rule.py), never from the message.
    for message in ("missing X-Client-Id header", "invalid client payload"):
        err = error_for(400, {}, body({"code": 400, "message": message}))
        assert type(err) is errors.BadRequestError


def test_2001_bind_link_from_body_or_known_user() -> None:
    err = error_for(
        200,
        {},
        body({"code": 2001, "message": "no credits", "data": {"user_id": "anon_abc"}}),
        web_url="https://w/",
    )
    assert isinstance(err, errors.InsufficientCreditsError)
    assert err.register_url == "https://w/register?bind=anon_abc"
    err2 = error_for(200, {}, body({"code": 2001}), web_url="https://w", user_id="anon_x")
    assert isinstance(err2, errors.InsufficientCreditsError)
    assert err2.register_url == "https://w/register?bind=anon_x"


def test_success_without_json_object_is_invalid() -> None:
    for raw in (b"", b"[1,2]", b"null", b"<html>", b'"text"'):
        with pytest.raises(errors.InvalidResponseError):
            decode(200, {}, raw)


def test_retry_after() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    for bad in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(bad) is None


@settings(max_examples=300, deadline=None)
@given(status=st.integers(100, 599), raw=st.binary(max_size=300))
def test_any_answer_gives_data_or_a_typed_error(status: int, raw: bytes) -> None:
    try:
        doc = decode(status, {}, raw)
    except errors.APIError as err:
        assert err.status == status
    else:
        assert isinstance(doc, dict)


@settings(max_examples=200, deadline=None)
@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=20,
    ),
    status=st.sampled_from([200, 400, 402, 429, 500]),
)
def test_any_json_gives_data_or_a_typed_error(doc: object, status: int) -> None:
    with contextlib.suppress(errors.APIError):
        decode(status, {}, body(doc))


def test_deeply_nested_json_is_refused_cleanly() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(errors.InvalidResponseError):
        decode(200, {}, deep)


@pytest.mark.parametrize(
    "encoded",
    [
        '{"code": 0, "data": {"name": "é"}}'.encode(),
        '\ufeff{"code": 0, "data": {"name": "é"}}'.encode(),  # a UTF-8 byte order mark
        '{"code": 0, "data": {"name": "é"}}'.encode("utf-16"),
        '{"code": 0, "data": {"name": "é"}}'.encode("utf-16-le"),  # no BOM: valid UTF-8 too
        '{"code": 0, "data": {"name": "é"}}'.encode("utf-32"),
    ],
)
def test_every_json_encoding_is_read_not_only_utf8(encoded: bytes) -> None:
    # The body is parsed as UTF-8 text first (the fast path); what ``json.loads`` reads
    # from bytes (a BOM, UTF-16, UTF-32) must still be read.
    assert decode(200, {}, encoded) == {"code": 0, "data": {"name": "é"}}


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=60).map(str.encode))
def test_a_body_parses_as_json_loads_of_its_bytes_does(raw: bytes) -> None:
    from nemo_sdk._http.envelope import _loads

    try:
        expected = None if not raw.strip() else json.loads(raw)
    except (ValueError, RecursionError):
        expected = None
    assert json.dumps(_loads(raw)) == json.dumps(expected)  # NaN-safe equality
