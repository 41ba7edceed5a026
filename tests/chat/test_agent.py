"""The emulator's rule-based agent: phrases, draft edits, served media."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession

from nemo_sdk.emulator import agent
from nemo_sdk.emulator.media import probe
from nemo_sdk.emulator.routes_chat import media_path

from .conftest import Rig


@pytest.mark.parametrize(
    ("message", "tool", "args"),
    [
        ("generate a cinematic sunset", "generate_video", {"prompt": "cinematic sunset"}),
        ("Add lo-fi BGM at 35%", "add_bgm", {"name": "Lo-fi", "volume": 0.35}),
        ('add music "Calm Piano"', "add_bgm", {"name": "Calm Piano", "volume": 0.5}),
        (
            "add a title 'Urban Dreams' for 3 s",
            "add_title",
            {"text": "Urban Dreams", "seconds": 3.0},
        ),
        ("please trim it to 4.5 seconds", "trim", {"seconds": 4.5}),
        ("make it 9:16", "set_aspect", {"ratio": "9:16"}),
        ("how are you?", None, {}),
    ],
)
def test_understand(message: str, tool: str | None, args: dict[str, object]) -> None:
    intent = agent.understand(message)
    assert (intent.tool, intent.args) == (tool, args)


def test_trim_cuts_every_track() -> None:
    draft = {
        "t": [
            {"tt": 0, "sg": [{"d": 4000, "m": {}}, {"d": 4000, "m": {}}]},
            {"tt": 7, "sg": [{"s": 6000, "d": 1000, "m": {"text": "late"}}]},
        ],
        "d": 8000,
        "keep": 1,
    }
    out = agent.trim(draft, 5000)
    assert out["t"][0]["sg"] == [{"d": 4000, "m": {}, "s": 0}, {"d": 1000, "m": {}, "s": 4000}]
    assert out["t"][1]["sg"] == []
    assert out["d"] == 5000 and out["keep"] == 1
    assert draft["d"] == 8000  # the input is not changed


def test_aspect_sizes() -> None:
    assert agent.aspect_size("9:16") == (1080, 1920)
    assert agent.aspect_size("16:9") == (1920, 1080)
    assert agent.aspect_size("1:1") == (1920, 1920)


async def test_generated_clip_is_served_and_playable(rig: Rig) -> None:
    async with rig(clip_seconds=0.5, clip_width=160, clip_height=90) as (emu, nemo, sid):
        reply = await nemo.chat.send(sid, "generate a neon city at night")
        url = reply.tool_results[0].result["url"]
        path = media_path(emu, url)
        assert path is not None
        async with ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200
            assert await resp.read() == path.read_bytes()
        async with ClientSession() as http, http.get(f"{emu.url}/media/..%2Fx.mp4") as resp:
            assert resp.status == 404
        info = probe(path)
        state = await nemo.state.get(sid)
    assert (info.kind, info.width, info.height) == ("video", 160, 90)
    assert info.duration == pytest.approx(0.5, abs=0.1)
    assert state.generated_media and state.generated_media[0]["url"] == url


async def test_bad_bodies_are_refused(rig: Rig) -> None:
    async with rig() as (emu, _, sid), ClientSession() as http:
        headers = {"Authorization": f"Bearer {emu.issue_token()}"}
        headers.update({h: "x" for h in ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")})
        camel = {"appName": "nemo_agent", "userId": "me", "sessionId": sid,
                 "newMessage": {"parts": [{"text": "hi"}]}}  # fmt: skip
        async with http.post(f"{emu.url}/run_sse", json=camel, headers=headers) as resp:
            assert resp.status == 400
