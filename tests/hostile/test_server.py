"""A malicious or broken server: lying lengths, endless streams, redirects, odd URLs, names.

The emulator plays the server (``lie``, ``endless`` and ``redirect`` faults, the
``content_disposition`` knob); a second tiny server on 127.0.0.1 plays "another
host" and records every request it receives.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import pytest

from nemo_sdk import (
    APIConnectionError,
    APIError,
    ChatSettings,
    DownloadError,
    InvalidResponseError,
    NemoError,
    StreamInterrupted,
)
from nemo_sdk._files.download import safe_filename
from nemo_sdk.emulator.routes_chat import turns
from nemo_sdk.errors import UnsafeFilename  # not exported from nemo_sdk yet
from nemo_sdk.testing import Rig

from .conftest import OtherHost


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _tree(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*"))


def _no_auth_anywhere(host: OtherHost) -> None:
    for headers in host.headers():
        assert "Authorization" not in headers
        assert not any(name.lower().startswith(("x-skill", "x-client")) for name in headers)


# --- Content-Length that lies ----------------------------------------------------------


@pytest.mark.parametrize("delta", [64, -10])
async def test_lying_length_on_a_json_get_is_retried_then_typed(rig: Rig, delta: int) -> None:
    emu, nemo = rig.emu, rig.nemo
    emu.faults.add("credits", "lie", delta=delta)
    credits = await nemo.credits.balance()  # a GET: the broken answer is retried
    assert credits.available == 1000
    assert emu.count("credits") == 2
    emu.faults.add("credits", "lie", delta=delta, times=None)
    with pytest.raises((APIConnectionError, InvalidResponseError)):
        await nemo.credits.balance()
    assert emu.count("credits") in (3, 5)  # 1 + 2 retries (connection), or 1 (bad JSON)


@pytest.mark.parametrize("delta", [64, -10])
async def test_lying_length_on_a_creating_post_is_typed_and_not_resent(
    rig: Rig, delta: int
) -> None:
    emu = rig.emu
    emu.faults.add("session", "lie", delta=delta)
    with pytest.raises((APIConnectionError, InvalidResponseError)):
        await rig.nemo.sessions.create()
    assert emu.count("session") == 2  # the rig's own session, then this one: not re-sent
    assert len(emu.store.sessions) == 2  # the server made it once


@pytest.mark.parametrize("delta", [64, -100, -1])
async def test_lying_length_on_a_download_never_leaves_a_wrong_file(
    rig: Rig, tmp_path: Path, delta: int
) -> None:
    rid = await rig.rendered()
    body = rig.file_of(rid)
    rig.emu.faults.add("cdn", "lie", delta=delta)
    target = tmp_path / "out" / "out.mp4"
    try:
        path = await rig.nemo.renders.download(rid, target)
    except NemoError:
        assert not target.exists()
    else:
        assert path.read_bytes() == body  # byte-identical, never short or padded
    finals = [name for name in _names(target.parent) if not name.endswith(".part")]
    assert finals in ([], ["out.mp4"])


async def test_lying_length_on_every_download_attempt_ends_typed(rig: Rig, tmp_path: Path) -> None:
    rid = await rig.rendered()
    rig.emu.faults.add("cdn", "lie", delta=64, times=None)
    rig.emu.faults.add("download", "lie", delta=64, times=None)
    with pytest.raises(DownloadError):
        await rig.nemo.renders.download(rid, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
    assert rid in {p.render_id for p in await rig.nemo.renders.pending()}  # resumable later


# --- an endless stream of keep-alives -------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (ChatSettings(overall_cap=0.3, heartbeat_timeout=60.0, drop_wait=0.0,
                      poll_interval=0.0, unchanged_reads=2), "cap"),
        (ChatSettings(overall_cap=60.0, heartbeat_timeout=0.2, drop_wait=0.0,
                      poll_interval=0.0, unchanged_reads=2), "heartbeats"),
    ],
)  # fmt: skip
async def test_endless_keepalives_end_at_the_configured_cap(
    rig: Rig, settings: ChatSettings, reason: str
) -> None:
    emu = rig.emu
    emu.faults.add("chat", "endless", every=0.005)
    started = time.monotonic()
    with pytest.raises(StreamInterrupted) as info:
        await rig.nemo.chat.send(rig.session_id, "add a title 'Never' for 1 s", settings=settings)
    assert time.monotonic() - started < 10.0  # the caps are 0.3 s and 0.2 s; never: forever
    assert reason in str(info.value)
    assert emu.count("chat") == 1  # the message was not re-sent
    assert emu.store.sessions[rig.session_id].applied_edits == 0
    assert len(info.value.received) > 3  # it did see the keep-alives
    (turn,) = turns(emu)
    assert not turn.completed


# --- redirects to another host -----------------------------------------------------------


async def test_redirect_on_an_api_call_is_not_followed(rig: Rig, other_host: OtherHost) -> None:
    emu = rig.emu
    emu.faults.add("credits", "redirect", location=f"{other_host.url}/steal?x=1")
    with pytest.raises(APIError) as info:
        await rig.nemo.credits.balance()
    assert info.value.status == 302
    assert "redirect" in str(info.value) and "not followed" in str(info.value)
    assert emu.count("credits") == 1
    assert other_host.seen == []


async def test_redirect_on_a_creating_post_is_not_followed(rig: Rig, other_host: OtherHost) -> None:
    rig.emu.faults.add("session", "redirect", location=other_host.url, status=307)
    with pytest.raises(APIError) as info:
        await rig.nemo.sessions.create()
    assert info.value.status == 307
    assert other_host.seen == []


async def test_redirect_from_the_cdn_falls_back_and_other_host_sees_nothing(
    rig: Rig, other_host: OtherHost, tmp_path: Path
) -> None:
    rid = await rig.rendered()
    rig.emu.faults.add("cdn", "redirect", location=f"{other_host.url}/file.mp4")
    path = await rig.nemo.renders.download(rid, tmp_path / "out.mp4")
    assert path.read_bytes() == rig.file_of(rid)
    assert rig.emu.count("download") == 1  # the authenticated fallback delivered it
    assert other_host.seen == []


async def test_redirect_from_the_authenticated_fallback_never_carries_the_token(
    rig: Rig, other_host: OtherHost, tmp_path: Path
) -> None:
    rid = await rig.rendered()
    rig.emu.faults.add("cdn", "500", times=None)
    rig.emu.faults.add("download", "redirect", location=f"{other_host.url}/file.mp4", times=None)
    with pytest.raises(DownloadError):
        await rig.nemo.renders.download(rid, tmp_path / "out.mp4")
    assert other_host.seen == []
    assert not (tmp_path / "out.mp4").exists()


async def test_an_output_url_on_another_host_gets_no_token(
    rig: Rig, other_host: OtherHost, tmp_path: Path
) -> None:
    rid = await rig.rendered()
    rig.emu.renders[rid].output_url = f"{other_host.url}/renders/{rid}.mp4"
    path = await rig.nemo.renders.download(rid, tmp_path / "out.mp4")
    assert path.read_bytes() == rig.file_of(rid)  # the other host said 404: fallback
    assert other_host.seen, "the output URL was tried"
    assert {(m, p) for m, p, _ in other_host.seen} == {("GET", f"/renders/{rid}.mp4")}
    _no_auth_anywhere(other_host)


# --- output URLs that are not http(s) ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/hosts",
        "ftp://127.0.0.1/render.mp4",
        "javascript:alert(1)",
        "data:video/mp4;base64,AAAA",
        "gopher://127.0.0.1:70/_x",
        "http:///no-host.mp4",
        "/renders/relative.mp4",
    ],
)
async def test_a_non_http_output_url_is_refused_and_nothing_fetched(
    rig: Rig, other_host: OtherHost, tmp_path: Path, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nemo_sdk")
    rid = await rig.rendered()
    rig.emu.renders[rid].output_url = url.replace("127.0.0.1", other_host.url[7:])
    path = await rig.nemo.renders.download(rid, tmp_path / "out.mp4")
    assert path.read_bytes() == rig.file_of(rid)
    assert rig.emu.count("cdn", "cdn") == 0 and other_host.seen == []
    assert rig.emu.count("download") == 1  # only the authenticated fallback route
    assert any("refusing output URL" in r.getMessage() for r in caplog.records)


async def test_a_scheme_relative_output_url_to_another_host_is_refused(
    rig: Rig, other_host: OtherHost, tmp_path: Path
) -> None:
    rid = await rig.rendered()
    rig.emu.renders[rid].output_url = f"//{other_host.url[7:]}/x.mp4"
    await rig.nemo.renders.download(rid, tmp_path / "out.mp4")
    assert other_host.seen == []


# --- server-supplied file names ----------------------------------------------------------


def _disposition(rig: Rig, value: str | None) -> None:
    rig.emu.knobs = dataclasses.replace(rig.emu.knobs, content_disposition=value)


@pytest.mark.parametrize(
    "value",
    [
        'attachment; filename="../../evil.mp4"',
        'attachment; filename="/etc/cron.d/evil"',
        'attachment; filename=".."',
        'attachment; filename="sub/evil.mp4"',
        'attachment; filename="..\\\\..\\\\evil.mp4"',
        "attachment; filename*=UTF-8''..%2F..%2Fevil.mp4",
        "attachment; filename*=UTF-8''evil%00.mp4",
        "attachment; filename*=UTF-8''C%3A%5Cevil.mp4",
        'attachment; filename=".bashrc"',
        'attachment; filename=""',
    ],
)
async def test_a_server_filename_escaping_the_directory_is_refused(
    rig: Rig, tmp_path: Path, value: str
) -> None:
    rid = await rig.rendered()
    _disposition(rig, value)
    folder = tmp_path / "a" / "b" / "downloads"
    folder.mkdir(parents=True)
    before = _tree(tmp_path)
    with pytest.raises(UnsafeFilename) as info:
        await rig.nemo.renders.download(rid, folder)
    assert isinstance(info.value, DownloadError)
    assert _tree(tmp_path) == before  # nothing written anywhere
    cdn = [r.method for r in rig.emu.requests if r.origin == "cdn"]
    assert cdn == ["HEAD"]  # the name was asked for; the file was never fetched
    assert rid in {p.render_id for p in await rig.nemo.renders.pending()}


async def test_an_output_url_whose_last_segment_escapes_is_refused(
    rig: Rig, tmp_path: Path
) -> None:
    rid = await rig.rendered()
    record = rig.emu.renders[rid]
    record.output_url = f"{rig.emu.cdn_url}/renders/..%2F..%2Fevil.mp4"
    folder = tmp_path / "downloads"
    folder.mkdir()
    with pytest.raises(UnsafeFilename):
        await rig.nemo.renders.download(rid, folder)
    assert _names(folder) == []
    assert not (tmp_path / "evil.mp4").exists()


async def test_a_directory_target_takes_the_servers_safe_name(rig: Rig, tmp_path: Path) -> None:
    rid = await rig.rendered()
    _disposition(rig, 'attachment; filename="Urban Dreams (final).mp4"')
    folder = tmp_path / "downloads"
    folder.mkdir()
    path = await rig.nemo.renders.download(rid, folder)
    assert path == folder / "Urban Dreams (final).mp4"
    assert path.read_bytes() == rig.file_of(rid)
    assert _names(folder) == ["Urban Dreams (final).mp4"]
    with pytest.raises(FileExistsError):
        await rig.nemo.renders.download(rid, folder)


async def test_a_directory_target_without_disposition_uses_the_url_name(
    rig: Rig, tmp_path: Path
) -> None:
    rid = await rig.rendered()
    path = await rig.nemo.renders.download(rid, tmp_path)
    assert path == tmp_path / f"{rid}.mp4"  # the output URL's last segment
    assert path.read_bytes() == rig.file_of(rid)
    assert rid not in {p.render_id for p in await rig.nemo.renders.pending()}


async def test_a_directory_target_without_any_name_uses_the_render_id(
    rig: Rig, tmp_path: Path
) -> None:
    rid = await rig.rendered()
    rig.emu.renders[rid].output_url = "file:///etc/passwd"  # refused: fallback only, no name
    path = await rig.nemo.renders.download(rid, tmp_path)
    assert path == tmp_path / f"{rid}.mp4"
    assert path.read_bytes() == rig.file_of(rid)


@pytest.mark.parametrize(
    "name",
    ["", " ", ".", "..", "../x", "..\\x", "a/b", "/abs", "C:evil", "c:\\x", "x\x00y", "x\ny",
     "\x7f", ".hidden", "..x", "x" * 256, "é" * 128],
)  # fmt: skip
def test_safe_filename_refuses(name: str) -> None:
    with pytest.raises(UnsafeFilename) as info:
        safe_filename(name)
    assert info.value.filename == name


@pytest.mark.parametrize(
    "name", ["video.mp4", "Urban Dreams (final).mp4", "都市の夢.mp4", "a..b.mp4", "x" * 255, "-"]
)
def test_safe_filename_keeps_plain_names(name: str, tmp_path: Path) -> None:
    assert safe_filename(name) == name
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_safe_filename_refuses_what_is_not_text() -> None:
    for value in (None, b"x.mp4", 3):
        with pytest.raises(UnsafeFilename):
            safe_filename(value)
