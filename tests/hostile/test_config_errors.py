"""A bad setting is a ``ConfigurationError`` naming it, at construction, before any request.

Each case builds a client against a server that records every request it gets, then
(for the cases that used to get that far) tries a call: nothing may have arrived.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from nemo_sdk import (
    ChatSettings,
    ConfigurationError,
    NemoClient,
    RenderSettings,
    RetrySettings,
    Timeouts,
)
from nemo_sdk.config import ClientConfig
from nemo_sdk.testing import serving

from ..conftest import FAST_RETRY


class Recorder:
    def __init__(self) -> None:
        self.url = ""
        self.requests: list[str] = []


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()

    async def record(request: web.Request) -> web.Response:
        rec.requests.append(f"{request.method} {request.path}")
        return web.json_response({"code": 0, "data": {"token": "nmv_usr_recorded_1"}})

    async with serving(record) as rec.url:
        yield rec


# (id, arguments, environment, the setting the error must name); "{url}" is the recorder's.
CASES: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    ("port-out-of-range", {"base_url": "http://127.0.0.1:99999"}, {}, "base_url"),
    ("port-out-of-range-env", {}, {"NEMO_API_URL": "http://127.0.0.1:70000"}, "NEMO_API_URL"),
    ("port-zero", {"base_url": "http://127.0.0.1:0"}, {}, "base_url"),
    ("port-not-a-number", {"base_url": "http://127.0.0.1:abc"}, {}, "base_url"),
    ("broken-ipv6", {"base_url": "http://[::1"}, {}, "base_url"),
    ("broken-ipv6-env", {}, {"NEMO_API_URL": "http://[::1:8080/"}, "NEMO_API_URL"),
    ("user-info", {"base_url": "http://user:secret@127.0.0.1:1"}, {}, "base_url"),
    ("user-info-env", {}, {"NEMO_API_URL": "http://u@127.0.0.1:1"}, "NEMO_API_URL"),
    ("space-in-host", {"base_url": "http://exa mple.com"}, {}, "base_url"),
    ("web-url-user-info", {"web_url": "https://u:p@nemovideo.com"}, {}, "web_url"),
    ("web-url-env-port", {}, {"NEMO_WEB_URL": "https://nemovideo.com:123456"}, "NEMO_WEB_URL"),
    ("token-crlf", {"token": "nmv_usr_abc\r\nX-Evil: 1"}, {}, "token"),
    ("token-crlf-env", {}, {"NEMO_TOKEN": "nmv_usr_abc\r\n"}, "NEMO_TOKEN"),
    ("token-del-env", {}, {"NEMO_TOKEN": "nmv_usr_a\x7fb"}, "NEMO_TOKEN"),
    ("client-id-crlf", {"client_id": "abc\r\nX-Evil: 1"}, {}, "client_id"),
    ("client-id-lf-env", {}, {"NEMO_CLIENT_ID": "abc\n"}, "NEMO_CLIENT_ID"),
    ("source-crlf", {"source": "my-app\r\nX-Evil: 1"}, {}, "source"),
    ("version-lf", {"version": "1.0\n"}, {}, "version"),
    ("platform-cr", {"platform": "cursor\r"}, {}, "platform"),
    ("platform-env", {}, {"SKILL_SOURCE": "clawhub\r\nX: y"}, "SKILL_SOURCE"),
    ("token-cache-dot-env", {}, {"NEMO_TOKEN_CACHE": "."}, "NEMO_TOKEN_CACHE"),
    ("token-cache-dotdot-env", {}, {"NEMO_TOKEN_CACHE": ".."}, "NEMO_TOKEN_CACHE"),
    ("token-cache-root", {"token_cache": "/"}, {}, "token_cache"),
    ("token-cache-dot", {"token_cache": "."}, {}, "token_cache"),
]


def _fill(value: Any, url: str) -> Any:
    return value.replace("{url}", url) if isinstance(value, str) else value


@pytest.mark.parametrize(
    ("args", "env", "setting"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_a_bad_setting_is_named_before_anything_is_sent(
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    args: dict[str, Any],
    env: dict[str, str],
    setting: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    kwargs: dict[str, Any] = {"base_url": recorder.url, "retry": FAST_RETRY, "journal_path": False}
    kwargs.update({k: _fill(v, recorder.url) for k, v in args.items()})
    if "NEMO_API_URL" in env:
        del kwargs["base_url"]
    nemo: NemoClient | None = None
    try:
        with pytest.raises(ConfigurationError) as info:
            nemo = NemoClient(**kwargs)
            await nemo.credits.balance()  # only reached if construction let it through
    finally:
        if nemo is not None:
            await nemo.close()
    assert nemo is None, "the error came after construction"
    message = str(info.value)
    assert setting in message
    assert "secret" not in message and "nmv_usr_abc" not in message
    assert recorder.requests == []


def test_a_directory_as_token_cache_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="token_cache"):
        ClientConfig.resolve(token_cache=tmp_path, env={})
    with pytest.raises(ConfigurationError, match="NEMO_TOKEN_CACHE"):
        ClientConfig.resolve(env={"NEMO_TOKEN_CACHE": str(tmp_path)})


def test_a_config_built_directly_is_checked_too() -> None:
    with pytest.raises(ConfigurationError, match="api_url"):
        ClientConfig(api_url="http://127.0.0.1:99999", web_url="https://nemovideo.com")
    with pytest.raises(ConfigurationError, match="token"):
        ClientConfig(api_url="http://a.test", web_url="https://b.test", token="x\r\ny")


@pytest.mark.parametrize(
    ("make", "setting"),
    [
        (lambda: Timeouts(connect=-1.0), "connect"),
        (lambda: Timeouts(total=math.nan), "total"),
        (lambda: Timeouts(read=0), "read"),
        (lambda: RetrySettings(max_retries=-1), "max_retries"),
        (lambda: RetrySettings(max_retries=1.5), "max_retries"),  # type: ignore[arg-type]
        (lambda: RetrySettings(backoff_max=math.inf), "backoff_max"),
        (lambda: RetrySettings(rate_limit_wait=-0.1), "rate_limit_wait"),
        (lambda: RenderSettings(poll_interval=0), "poll_interval"),
        (lambda: RenderSettings(poll_interval=-1), "poll_interval"),
        (lambda: RenderSettings(poll_interval=math.nan), "poll_interval"),
        (lambda: RenderSettings(poll_floor=0), "poll_floor"),
        (lambda: RenderSettings(timeout=-1), "timeout"),
        (lambda: ChatSettings(drop_wait=math.nan), "drop_wait"),
        (lambda: ChatSettings(poll_interval=-1), "poll_interval"),
        (lambda: ChatSettings(unchanged_reads=0), "unchanged_reads"),
        (lambda: ChatSettings(heartbeat_timeout=math.inf), "heartbeat_timeout"),
        (lambda: NemoClient(timeout=0), "total"),
        (lambda: NemoClient(max_retries=-1), "max_retries"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_numbers_that_would_misbehave_are_refused_when_made(make: Any, setting: str) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        make()
