"""Typed knobs and faults: a typo in a name or a value is refused when made, never a no-op."""

from __future__ import annotations

import dataclasses

import aiohttp
import pytest

from nemo_sdk.emulator import Emulator, Knobs
from nemo_sdk.emulator.__main__ import main
from nemo_sdk.emulator.faults import FaultInjector
from nemo_sdk.emulator.knobs import parse_knob


def test_an_unknown_knob_is_a_type_error_that_suggests_the_right_one() -> None:
    with pytest.raises(TypeError, match=r"'render_second'.*did you mean 'render_seconds'"):
        Emulator(render_second=30)


@pytest.mark.parametrize(
    ("knob", "value", "choices"),
    [
        ("event_shape", "adk2", "'adk' or 'flat'"),
        ("poll_shape", "dat", "'data', 'top' or 'alternate'"),
    ],
)
def test_a_choice_outside_its_choices_names_the_knob_and_the_choices(
    knob: str, value: str, choices: str
) -> None:
    # Before: any other text was silently read as the default shape.
    with pytest.raises(ValueError, match=knob) as info:
        Emulator(**{knob: value})
    assert choices in str(info.value)
    with pytest.raises(ValueError, match=knob):
        dataclasses.replace(Knobs(), **{knob: value})  # changing them while serving too


@pytest.mark.parametrize(
    ("knob", "value"),
    [("render_seconds", -1), ("no_text_rate", 1.5), ("clip_width", 0), ("thoughts", "maybe")],
)
def test_a_value_of_the_wrong_type_or_range_is_a_value_error(knob: str, value: object) -> None:
    with pytest.raises(ValueError, match=knob):
        Emulator(**{knob: value})


def test_the_call_styles_that_set_knobs_still_work() -> None:
    assert Emulator(render_seconds=30).knobs.render_seconds == 30.0
    base = Knobs(clip_width=64, poll_shape="top")
    emu = Emulator(knobs=base, render_seconds=0)
    assert (emu.knobs.clip_width, emu.knobs.poll_shape, emu.knobs.render_seconds) == (64, "top", 0)
    emu.knobs = dataclasses.replace(emu.knobs, export_status="queued")
    assert emu.state.knobs.export_status == "queued"  # what the routes read


def test_command_line_knobs_are_read_as_their_type_and_checked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert parse_knob("render_seconds=0.5") == ("render_seconds", 0.5)
    assert parse_knob("adk_streaming=yes") == ("adk_streaming", True)
    assert parse_knob("content_disposition=none") == ("content_disposition", None)
    with pytest.raises(SystemExit) as info:
        main(["--knob", "poll_shape=sideways"])
    assert info.value.code == 2
    assert "poll_shape" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--knob", "render_secs=1"])
    assert "did you mean 'render_seconds'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("route", "kind", "params", "says"),
    [
        ("credit", "429", {}, "unknown fault route 'credit'"),
        ("credits", "4299", {}, "unknown fault kind '4299'"),
        ("credits", "429", {"retry_afer": "1"}, "no fault takes the parameter 'retry_afer'"),
        ("chat", "1001", {"mid_steam": True}, "'1001' takes: mid_stream, status"),
    ],
)
def test_a_fault_that_could_never_act_is_refused(
    route: str, kind: str, params: dict[str, object], says: str
) -> None:
    # Before: an unknown route or parameter was kept and never fired (or changed nothing).
    with pytest.raises(ValueError, match=says):
        FaultInjector().add(route, kind, **params)  # type: ignore[arg-type]


async def test_a_fault_with_its_parameters_still_acts() -> None:
    async with Emulator() as emu, aiohttp.ClientSession() as http:
        emu.faults.add("credits", "429", retry_after="7", limit="per_ip")
        async with http.get(f"{emu.url}/api/credits/balance/simple") as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "7"
