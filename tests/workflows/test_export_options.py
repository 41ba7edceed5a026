"""Export ``format`` and ``quality`` are checked before anything is sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import InvalidArgument, NemoClient
from nemo_sdk.emulator import Emulator


@pytest.mark.parametrize(("option", "value"), [("format", "avi"), ("quality", "ultra")])
async def test_a_bad_format_or_quality_is_refused_before_sending(
    tmp_path: Path, option: str, value: str
) -> None:
    kwargs: dict[str, Any] = {option: value}
    async with Emulator() as emu, NemoClient(
        base_url=emu.url, client_id_path=tmp_path / "cid", journal_path=False
    ) as nemo:
        with pytest.raises(InvalidArgument, match=option):
            await nemo.renders.export("ses_x", **kwargs)
        with pytest.raises(InvalidArgument, match=option):
            await nemo.generate_and_export("a kite", tmp_path / "k.mp4", **kwargs)
        with pytest.raises(InvalidArgument, match=option):
            await nemo.batch(["a kite"], out_dir=tmp_path, **kwargs)
    assert emu.requests == []  # nothing was sent, not even for a token
