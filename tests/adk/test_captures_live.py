"""The committed captures still describe google-adk's own server (the installed version)."""

from __future__ import annotations

import pytest

from tests.adk import shapes
from tests.adk.capture import capture

# One google-adk server (the session-scoped adk_url) for the tier: one xdist worker runs it.
pytestmark = [pytest.mark.adk, pytest.mark.slow, pytest.mark.xdist_group("adk")]


async def test_captures_match_the_live_server(adk_url: str) -> None:
    live = await capture(adk_url)
    assert sorted(live) == sorted(p.name for p in shapes.CAPTURES.iterdir() if p.suffix != ".md")
    for name, raw in live.items():
        if not name.endswith(".sse"):
            continue
        case, mode, _ = name.split(".")
        ours, kept = shapes.parse_sse(raw), shapes.capture(case, mode)
        shapes.turn_rules(ours, mode)
        assert shapes.signature(ours) == shapes.signature(kept), name
        assert shapes.keysets(ours) == shapes.keysets(kept), name
