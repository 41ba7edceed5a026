"""The bearer token never shows in logs, reprs or exception messages."""

from __future__ import annotations

import logging

import pytest

from nemo_sdk import NemoClient, NemoError
from nemo_sdk._util.logging import redact
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY


async def test_token_absent_from_logs_reprs_and_errors(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEMO_LOG", "debug")
    caplog.set_level(logging.DEBUG, logger="nemo_sdk")
    token = emulator.issue_token()
    texts: list[str] = []
    async with NemoClient(base_url=emulator.url, token=token, retry=FAST_RETRY) as nemo:
        session = await nemo.sessions.create()
        texts += [
            repr(nemo),
            repr(nemo.config),
            str(nemo.config),
            repr(nemo._transport),
            repr(nemo._transport.tokens),
            repr(session),
            repr(nemo.sessions),
        ]
        for kind in ("429", "1002", "2001", "500", "garbage", "402"):
            emulator.faults.add("credits", kind, times=None, retry_after="0")
            with pytest.raises(NemoError) as info:
                await nemo.credits.balance()
            emulator.faults.clear()
            texts += [str(info.value), repr(info.value), str(getattr(info.value, "body", ""))]
        emulator.store.expire(token)
        with pytest.raises(NemoError) as auth:
            await nemo.credits.balance()
        texts += [str(auth.value), repr(auth.value)]
    texts += [record.getMessage() for record in caplog.records]
    assert any("/api/credits/balance/simple" in t for t in texts)  # logging did happen
    for text in texts:
        assert token not in text


def test_redact_scrubs_bearer_and_token_shapes() -> None:
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer [redacted]"
    assert redact("got nmv_usr_XyZ-1 back") == "got [redacted] back"


async def test_anonymous_token_absent_from_logs(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="nemo_sdk")
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        emulator.faults.add("credits", "500")
        await nemo.credits.balance()
        token, _ = await nemo._transport.tokens.get()
    assert caplog.records
    assert all(token not in r.getMessage() for r in caplog.records)
