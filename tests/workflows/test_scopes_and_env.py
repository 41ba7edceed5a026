"""A token that cannot export is told before anything is generated; an empty NEMO_TOKEN
is said in the log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nemo_sdk import ExportBlocked, NemoClient
from nemo_sdk.config import ClientConfig
from nemo_sdk.emulator import Emulator

pytest.importorskip("av")


async def test_generate_and_export_refuses_a_token_that_cannot_export(tmp_path: Path) -> None:
    async with Emulator(anonymous_scopes=("read", "write", "upload")) as emu, NemoClient(
        base_url=emu.url, client_id_path=tmp_path / "cid", journal_path=False
    ) as nemo:  # fmt: skip
        with pytest.raises(ExportBlocked, match="render scope") as caught:
            await nemo.generate_and_export("a kite", tmp_path / "k.mp4")
        assert "nothing was generated" in str(caught.value)
        assert emu.count("chat") == 0  # was: generated (100 credits), then 402
        assert (await nemo.credits.balance()).available == 100
        assert nemo.auth.scopes == ("read", "write", "upload")


async def test_scopes_are_none_until_a_token_is_known(tmp_path: Path) -> None:
    async with Emulator() as emu, NemoClient(
        base_url=emu.url, client_id_path=tmp_path / "cid", journal_path=False
    ) as nemo:  # fmt: skip
        assert nemo.auth.scopes is None
        await nemo.auth.ensure_token()
        assert nemo.auth.scopes is not None and "render" in nemo.auth.scopes


def test_an_empty_nemo_token_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="nemo_sdk"):
        config = ClientConfig.resolve(env={"NEMO_TOKEN": ""})
    assert config.token is None and config.token_source == "anonymous"
    assert "NEMO_TOKEN is set but empty" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nemo_sdk"):
        ClientConfig.resolve(env={})
    assert "NEMO_TOKEN" not in caplog.text
