"""One demo emulator table and one builder of its clients (offline.py), used by all."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_sdk import offline
from nemo_sdk.emulator import Emulator
from nemo_sdk.offline import DEMO_KNOBS, embedded_client, embedded_client_options
from nemo_sdk.testing import _client_kwargs

pytest.importorskip("av")

SMALL = {"clip_seconds": 0.5, "clip_width": 64, "clip_height": 36, "clip_fps": 6}


async def test_embedded_client_keeps_its_renders_out_of_the_users_journal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Before: embedded_client journaled into $XDG_CONFIG_HOME (renders of an emulator that
    # died with the process); the CLI's --emulator did not. Now both do as the CLI did.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    said: list[str] = []
    async with embedded_client(note=said.append, **SMALL) as nemo:
        journal = nemo.config.journal_path
        assert journal is not None and journal.name == "renders.sqlite3"
        assert not journal.is_relative_to(tmp_path)
        assert nemo.config.trust_env is False
        sid = (await nemo.sessions.create()).id
        await nemo.chat.send(sid, "generate a red fox")
        assert (await nemo.credits.balance()).available == DEMO_KNOBS["starting_credits"] - 100
    assert said and said[0].startswith("embedded emulator at http://127.0.0.1:")
    assert not list((tmp_path / "config").rglob("renders.sqlite3"))


async def test_the_one_builder_serves_the_demo_and_the_test_clients(tmp_path: Path) -> None:
    async with Emulator(**SMALL) as emu:
        demo = embedded_client_options(emu)
        assert demo["base_url"] == emu.url and demo["trust_env"] is False
        assert demo["journal_path"] == emu.data_dir / "renders.sqlite3"
        assert embedded_client_options(emu, render_poll_interval=3)["render_poll_interval"] == 3
        plugin = _client_kwargs(emu, tmp_path)  # the pytest plugin's clients
        assert plugin["base_url"] == emu.url and plugin["trust_env"] is False
        assert plugin["journal_path"] == tmp_path / "nemo-config" / "renders.sqlite3"


def test_the_demo_table_is_read_when_a_client_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI's --emulator reads it through embedded_client: one table for both.
    import inspect

    from nemo_sdk.cli import runtime

    assert "DEMO_KNOBS" not in vars(runtime) and not hasattr(runtime, "EMBEDDED_EMULATOR")
    assert "embedded_client" in inspect.getsource(runtime._embedded)
    monkeypatch.setattr(offline, "DEMO_KNOBS", {**DEMO_KNOBS, "render_slots": 5})
    assert offline.DEMO_KNOBS["render_slots"] == 5
