"""``sessions.claim_link`` takes a session id, as every other method does."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_sdk import InvalidArgument, NemoClient
from nemo_sdk.emulator import Emulator


async def test_claim_link_accepts_a_session_id(tmp_path: Path) -> None:
    async with Emulator() as emu, NemoClient(
        base_url=emu.url, client_id_path=tmp_path / "cid", journal_path=False
    ) as nemo:
        session = await nemo.sessions.create()
        link = await nemo.sessions.claim_link(session.id)  # was AttributeError
        assert "/workspace/claim?ct=" in link.url
        with pytest.raises(InvalidArgument, match="task_id"):
            await nemo.sessions.claim_link("ses_made_elsewhere")
        assert emu.count("claim") == 1  # the unknown one was refused before sending
