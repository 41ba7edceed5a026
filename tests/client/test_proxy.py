"""Requests go through the forward proxy ``HTTP_PROXY``/``HTTPS_PROXY`` name (issue 17).

A real proxy (proxy.py) runs as a subprocess on 127.0.0.1 and records every request
it forwards (``_proxy_recorder``); the emulator is addressed as ``127.0.0.1``, which
neither urllib nor aiohttp exempt from proxying unless ``NO_PROXY`` says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import NemoClient
from nemo_sdk.config import ClientConfig, ConfigurationError, RetrySettings
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY, export_rendered

pytest.importorskip("proxy", reason="the proxy-test extra (proxy.py)")

ROOT = Path(__file__).resolve().parents[2]
DRAFT: dict[str, Any] = {
    "m": {"title": "proxy", "width": 64, "height": 36},
    "t": [{"tt": 7, "sg": [{"d": 200, "m": {"text": "x"}}]}],
}
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Proxy:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def seen(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def proxy_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """One proxy.py for the module (its start is seconds of CPU); ``forward_proxy`` per test."""
    tmp = tmp_path_factory.mktemp("proxy")
    port_file, log = tmp / "proxy.port", tmp / "proxy.jsonl"
    env = {k: v for k, v in os.environ.items() if k.upper() not in PROXY_VARS}
    env.update(PYTHONPATH=str(ROOT), NEMO_PROXY_LOG=str(log))
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "proxy",
            "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
            "--num-acceptors", "1", "--num-workers", "1", "--threaded",
            "--plugins", "tests.client._proxy_recorder.RecordRequests",
            "--log-level", "WARNING",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its acceptor processes end with it (os.killpg below)
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        port = 0
        while not port:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "proxy.py did not start"
            text = port_file.read_text().strip() if port_file.exists() else ""
            if text:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", int(text))) == 0:
                        port = int(text)
            if not port:
                time.sleep(0.05)
        yield Proxy(f"http://127.0.0.1:{port}", log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture
def forward_proxy(proxy_process: Proxy) -> Proxy:
    """The module's proxy, its log emptied: what it records is this test's."""
    proxy_process.log.write_text("")
    return proxy_process


@pytest.fixture
async def emu() -> Any:
    async with Emulator(render_seconds=0.05) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def origin(entry: dict[str, Any]) -> str:
    return f"http://{entry['host']}:{entry['port']}"


async def test_requests_and_downloads_go_through_the_proxy_token_only_to_the_api(
    emu: Emulator, forward_proxy: Proxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    async with NemoClient(base_url=emu.url, token=emu.issue_token(), retry=FAST_RETRY) as nemo:
        session = await nemo.sessions.create(language="en")
        render_id = await export_rendered(nemo, emu, session.id, DRAFT)
        saved = await nemo.renders.download(render_id, tmp_path / "out.mp4")
    assert saved.stat().st_size > 0
    seen = forward_proxy.seen()
    origins = {origin(e) for e in seen}
    assert emu.url in origins, seen  # the API calls went through the proxy
    assert emu.cdn_url in origins, seen  # and so did the download from the CDN
    # The token reaches the proxy only on the requests to the API (an http:// API:
    # the proxy it was told to use), never on one to another host.
    assert all(e["authorization"] for e in seen if origin(e) == emu.url), seen
    assert not [e for e in seen if e["authorization"] and origin(e) != emu.url], seen


async def test_no_proxy_bypasses_the_proxy(
    emu: Emulator, forward_proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with NemoClient(base_url=emu.url, token=emu.issue_token(), retry=FAST_RETRY) as nemo:
        await nemo.credits.balance()
    assert forward_proxy.seen() == []


async def test_the_proxy_is_read_per_request(
    emu: Emulator, forward_proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with NemoClient(base_url=emu.url, token=emu.issue_token(), retry=FAST_RETRY) as nemo:
        await nemo.credits.balance()
        assert forward_proxy.seen() == []
        monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
        await nemo.credits.balance()
    assert [e["path"] for e in forward_proxy.seen()] == ["/api/credits/balance/simple"]


async def test_trust_env_false_bypasses_the_proxy(
    emu: Emulator, forward_proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    async with NemoClient(
        base_url=emu.url, token=emu.issue_token(), retry=FAST_RETRY, trust_env=False
    ) as nemo:
        await nemo.credits.balance()
    assert forward_proxy.seen() == []


async def test_a_dead_proxy_is_a_connection_error_without_the_token(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nemo_sdk import APIConnectionError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed again below: nothing listens there
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    token = emu.issue_token()
    async with NemoClient(base_url=emu.url, token=token, retry=FAST_RETRY) as nemo:
        with pytest.raises(APIConnectionError) as info:
            await nemo.credits.balance()
    assert token not in repr(info.value) and token not in repr(info.value.__cause__)


async def test_an_https_api_is_tunnelled_the_token_never_in_the_clear(
    emu: Emulator, forward_proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No TLS server here: the emulator's plain port addressed as https. The proxy sees
    # the CONNECT (and no Authorization on it); the TLS handshake then fails.
    from nemo_sdk import APIConnectionError

    monkeypatch.setenv("HTTPS_PROXY", forward_proxy.url.replace("http://", "http://u:pw@"))
    port = emu.url.rsplit(":", 1)[1]
    token = emu.issue_token()
    no_retry = RetrySettings(max_retries=0)
    async with NemoClient(
        base_url=f"https://127.0.0.1:{port}", token=token, retry=no_retry
    ) as nemo:
        with pytest.raises(APIConnectionError):
            await nemo.credits.balance()
    seen = forward_proxy.seen()
    assert [(e["method"], e["authorization"]) for e in seen] == [("CONNECT", False)], seen
    assert seen[0]["proxy_authorization"]  # the proxy's own credentials, from its URL


def test_trust_env_must_be_a_bool() -> None:
    with pytest.raises(ConfigurationError, match="trust_env"):
        ClientConfig(api_url="http://127.0.0.1:1", web_url="http://127.0.0.1:1", trust_env="no")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, "https://api.example/x", None),
        ({"HTTPS_PROXY": "http://p:1"}, "https://api.example/x", "http://p:1"),
        ({"HTTPS_PROXY": "p:1"}, "https://api.example/x", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1"}, "http://api.example/x", None),  # wrong scheme
        (
            {"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:1"},
            "https://a/",
            "http://low:1",
        ),
        ({"https_proxy": "", "HTTPS_PROXY": "http://up:1"}, "https://a/", None),
        ({"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}, "http://a/", None),  # CGI
        ({"http_proxy": "http://low:1", "REQUEST_METHOD": "GET"}, "http://a/", "http://low:1"),
        ({"HTTPS_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}, "https://a/", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".example"}, "https://api.example/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://api.example/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "other"}, "https://api.example/", "http://p:1"),
    ],
)
def test_proxy_for_reads_the_environment_as_urllib_does(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], url: str, expected: str | None
) -> None:
    from yarl import URL

    from nemo_sdk._http.proxies import proxy_for

    monkeypatch.delenv("REQUEST_METHOD", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    proxy, headers = proxy_for(URL(url))
    assert (str(proxy) if proxy else None) == expected
    assert headers is None


def test_proxy_credentials_become_proxy_authorization(monkeypatch: pytest.MonkeyPatch) -> None:
    from yarl import URL

    from nemo_sdk._http.proxies import proxy_for

    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.local:3128")
    proxy, headers = proxy_for(URL("https://api.example/x"))
    assert str(proxy) == "http://proxy.local:3128"  # no credentials left in the URL
    assert headers == {"Proxy-Authorization": "Basic dXNlcjpzZWNyZXQ="}


async def test_the_offline_clients_never_go_through_a_proxy(
    forward_proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """embedded_client() (and the plugin's clients) keep loopback traffic off a proxy."""
    from nemo_sdk.offline import embedded_client

    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    async with embedded_client(quiet=True) as nemo:
        assert (await nemo.credits.balance()).available > 0
    assert forward_proxy.seen() == []
