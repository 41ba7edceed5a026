"""The emulator's ADK shape against the captures of google-adk's own server.

Fails when the emulator's events drift from what ADK sends: the same keys per event
kind (names, casing, ``actions`` and part fields) and the same ``partial``/``id``
pattern per mode (:mod:`tests.adk.shapes`). Needs no google-adk: the captures are
committed (``python -m tests.adk.capture`` rewrites them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from nemo_sdk.emulator import Emulator
from tests.adk import shapes
from tests.adk.capture import CASES, MODES, body

EDIT = "add lo-fi BGM at 35%"
TALK = "hello there, what can you do?"


@dataclass
class Scenario:
    capture: str  # the capture case it must look like
    message: str
    knobs: dict[str, Any] = field(default_factory=dict)
    fault: dict[str, Any] | None = None  # a ``chat`` fault: kind and params
    groups: int | None = None  # compare only the first groups (the capture ends sooner)


SCENARIOS: dict[str, Scenario] = {
    "text": Scenario("text", TALK),
    "tool_then_text": Scenario("tool_then_text", EDIT),
    "text_and_call": Scenario("text_and_call", EDIT, {"text_with_call": True}),
    "thought": Scenario("thought", TALK, {"thoughts": True}),
    "silent_tool": Scenario(
        "silent_tool", EDIT, {"adk_keepalives": False}, {"kind": "silent", "seconds": 0.05}
    ),
    # ADK's capture ends after the actions (the tool skipped the summary); ours talks on.
    "actions": Scenario("actions", EDIT, {"actions_events": True}, groups=2),
    "model_raises": Scenario("model_raises", EDIT, fault={"kind": "turn_error"}),
    "error_event": Scenario(
        "error_event",
        TALK,
        fault={"kind": "turn_error", "code": "SAFETY", "message": "blocked", "text": "Let me "},
    ),
    "no_content": Scenario(
        "no_content", TALK, fault={"kind": "turn_error", "code": "MODEL_RETURNED_NO_CONTENT"}
    ),
}


def _loose(signature: list[str]) -> list[str]:
    # "kind+" is one or more of a kind: chunk counts differ, the pattern may not.
    return [group.replace("+ ", " ").rstrip("+") for group in signature]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def emulator_stream(
    http: aiohttp.ClientSession, scenario: Scenario, streaming: bool, **more: Any
) -> list[dict[str, Any]]:
    knobs = {"no_text_rate": 0.0, "require_attribution": False, **scenario.knobs, **more}
    async with Emulator(render_seconds=0.05, starting_credits=1000, **knobs) as emu:
        auth = {"Authorization": f"Bearer {emu.issue_token()}"}
        async with http.post(
            f"{emu.url}/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "project"},
            headers=auth,
        ) as r:
            sid = (await r.json())["data"]["session_id"]
        if scenario.fault is not None:
            params = dict(scenario.fault)
            emu.faults.add("chat", params.pop("kind"), **params)
        async with http.post(
            f"{emu.url}/run_sse", json=body(sid, scenario.message, streaming), headers=auth
        ) as r:
            assert r.status == 200
            return shapes.parse_sse(await r.read())


def test_every_capture_case_has_both_modes() -> None:
    for case in CASES:
        for mode in MODES:
            events = shapes.capture(case, mode)
            assert events, (case, mode)
            shapes.turn_rules(events, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", SCENARIOS)
async def test_emulator_matches_capture(http: aiohttp.ClientSession, name: str, mode: str) -> None:
    scenario = SCENARIOS[name]
    ours = await emulator_stream(http, scenario, MODES[mode])
    theirs = shapes.capture(scenario.capture, mode)
    shapes.turn_rules(ours, mode)
    n = scenario.groups
    assert _loose(shapes.signature(ours))[:n] == _loose(shapes.signature(theirs))[:n]
    # Every key set the emulator sends, ADK sends for that kind in that mode.
    known: dict[str, set[frozenset[str]]] = {}
    for case in CASES:
        for k, sets in shapes.keysets(shapes.capture(case, mode)).items():
            known.setdefault(k, set()).update(sets)
    for k, sets in shapes.keysets(ours).items():
        assert k in known, f"ADK never sends a {k!r} event in {mode} mode"
        assert sets <= known[k], (k, sets - known[k], known[k])


async def test_server_that_streams_by_default(http: aiohttp.ClientSession) -> None:
    """``adk_streaming``: the documented body (no ``streaming``) still gets partials."""
    ours = await emulator_stream(http, SCENARIOS["tool_then_text"], False, adk_streaming=True)
    theirs = shapes.capture("tool_then_text", "streaming")
    assert _loose(shapes.signature(ours)) == _loose(shapes.signature(theirs))


async def test_unknown_session_is_adks_404(http: aiohttp.ClientSession) -> None:
    theirs = (shapes.CAPTURES / "unknown_session.404.json").read_bytes()
    async with Emulator(require_attribution=False) as emu:
        auth = {"Authorization": f"Bearer {emu.issue_token()}"}
        async with http.post(
            f"{emu.url}/run_sse", json=body("ses_nope", TALK, False), headers=auth
        ) as r:
            assert r.status == 404
            ours = await r.json()
    assert ours == {"detail": "Session not found: ses_nope"}
    assert set(ours) == set(__import__("json").loads(theirs))
