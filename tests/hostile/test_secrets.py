"""The bearer token shows up nowhere but in the Authorization header sent to the API.

A full flow (session, chat, export, wait, download, claim link) with a known token
and every log level on, then the fault cases; the token is looked for in every log
record, every exception (message, repr, body, causes), the reprs of the client, its
config and the models, the files the SDK writes, every URL any origin was asked for,
and every header the CDN origin and another host received.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import ChatSettings, NemoClient, NemoError
from nemo_sdk.emulator import Emulator
from nemo_sdk.testing import RecordingSleep

from ..conftest import FAST_RETRY
from .conftest import OtherHost


def _files_under(folder: Path) -> list[str]:
    return [p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file()]


def _texts_of_error(exc: BaseException) -> list[str]:
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), *map(repr, current.args)]
        for name in ("body", "message", "text", "data", "register_url", "received"):
            value = getattr(current, name, None)
            if value is not None:
                texts.append(repr(value))
        current = current.__cause__ or current.__context__
    return texts


@pytest.mark.slow
async def test_the_token_never_leaks(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    other_host: OtherHost,
) -> None:
    monkeypatch.setenv("NEMO_LOG", "debug")
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's and aiohttp's
    texts: list[str] = []
    async with Emulator(
        render_seconds=0.01, starting_credits=1000, no_text_rate=0.0,
        clip_seconds=0.5, clip_width=64, clip_height=36, clip_fps=6,
    ) as emu:  # fmt: skip
        token = emu.issue_token()
        assert token.startswith("nmv_")
        async with NemoClient(
            base_url=emu.url,
            token=token,
            retry=FAST_RETRY,
            sleep=RecordingSleep(),
            chat_settings=ChatSettings(drop_wait=0.0, poll_interval=0.0, unchanged_reads=2),
        ) as nemo:
            # The full flow.
            session = await nemo.sessions.create()
            reply = await nemo.chat.send(session.id, "generate a calm beach at dawn")
            state = await nemo.state.get(session.id)
            credits = await nemo.credits.balance()
            job = await nemo.renders.export(session.id)
            done = await nemo.renders.wait(job.id, poll_interval=0.01)
            path = await nemo.renders.download(done.id, tmp_path / "out" / "video.mp4")
            link = await nemo.sessions.claim_link(session)
            assert path.stat().st_size > 0 and reply.draft_changed
            texts += [repr(x) for x in (nemo, nemo.config, session, reply, state, credits, job)]
            texts += [repr(done), repr(link), link.url, str(nemo.config), repr(nemo.renders)]
            texts += [repr(nemo._transport), repr(nemo._transport.tokens), repr(reply.events)]
            texts += [repr(nemo.renders.journal), repr(nemo.auth), repr(emu)]

            # Every fault the SDK turns into an exception.
            rid = (await nemo.renders.export(session.id)).id
            cases: list[tuple[str, str, dict[str, Any], Any]] = [
                ("credits", "429", {"times": 2, "retry_after": "0"}, nemo.credits.balance),
                ("credits", "500", {"times": None}, nemo.credits.balance),
                ("credits", "garbage", {}, nemo.credits.balance),
                ("credits", "lie", {"delta": 64, "times": None}, nemo.credits.balance),
                ("credits", "redirect", {"location": f"{other_host.url}/x"},
                 nemo.credits.balance),
                ("state", "1002", {}, lambda: nemo.state.get(session.id)),
                ("chat", "2001", {}, lambda: nemo.chat.send(session.id, "add a title 'x' for 1 s")),
                ("chat", "drop", {"before_apply": True},
                 lambda: nemo.chat.send(session.id, "add a title 'y' for 1 s")),
                ("export", "402", {}, lambda: nemo.renders.export(session.id)),
                ("poll", "500", {"times": None},
                 lambda: nemo.renders.wait(rid, poll_interval=0.01, timeout=0.05)),
                ("session", "drop", {"after_apply": True}, nemo.sessions.create),
                ("upload", "4001", {}, lambda: nemo.uploads.upload(session.id, path)),
            ]  # fmt: skip
            raised = 0
            for route, kind, params, call in cases:
                emu.faults.add(route, kind, **{"times": 1, **params})
                try:
                    await call()
                except NemoError as exc:
                    raised += 1
                    texts += _texts_of_error(exc)
                emu.faults.clear()
            assert raised == len(cases)
            # Both download sources down: a DownloadError naming both.
            emu.faults.add("cdn", "500", times=None)
            emu.faults.add("download", "500", times=None)
            with pytest.raises(NemoError) as failed:
                await nemo.renders.download(done.id, tmp_path / "out" / "again.mp4")
            texts += _texts_of_error(failed.value)
            emu.faults.clear()
            # The token expires: a supplied token is not silently swapped for another.
            emu.store.expire(token)
            with pytest.raises(NemoError) as expired:
                await nemo.credits.balance()
            texts += _texts_of_error(expired.value)

    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text, *capsys.readouterr()]
    # What the SDK wrote to disk: the journal and the client id file.
    texts += _files_under(tmp_path)
    # Every URL any origin was asked for, and everything the CDN and another host saw.
    texts += [r.path for r in emu.requests]
    texts += [repr(dict(r.headers)) for r in emu.requests if r.origin == "cdn"]
    texts += [f"{p} {h!r}" for _, p, h in other_host.seen]

    assert any("/api/credits/balance/simple" in t for t in texts)  # logging did happen
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert [r for r in emu.requests if r.origin == "cdn"], "the CDN was used"
    leaks = [t[:200] for t in texts if token in t]
    assert leaks == []
    # The API did receive it, as a bearer header only.
    api = [r for r in emu.requests if r.origin == "api" and r.route != "token"]
    assert all(r.headers.get("Authorization") == f"Bearer {token}" for r in api[:3])


def test_error_reprs_stay_clean_of_tokens_in_bodies() -> None:
    """A server that echoes the token in an error body: the SDK redacts it."""
    from nemo_sdk._http import envelope as _envelope

    token = "nmv_usr_" + "s3cr3t" * 4
    body = f'{{"code": 1002, "message": "no session for Bearer {token}", "t": "{token}"}}'
    with pytest.raises(NemoError) as info:
        _envelope.decode(200, {}, body.encode())
    leaked = [t for t in _texts_of_error(info.value) if token in t]
    assert leaked == [], "an echoed token must be redacted from messages and bodies"


def test_reprs_of_configs_and_copies_hide_the_token() -> None:
    nemo = NemoClient(base_url="http://127.0.0.1:9", token="nmv_usr_visible_if_leaked")
    copy = nemo.with_options(timeout=1.0, max_retries=0)
    for text in (repr(nemo), repr(nemo.config), str(nemo.config), repr(copy.config)):
        assert "nmv_usr_visible_if_leaked" not in text
