"""The emulator's knobs: the settings its routes read at each request, checked when made.

``Knobs(render_seconds=30)`` (or ``Emulator(render_seconds=30)``) checks every value: an
unknown name is a ``TypeError`` that names the knobs there are, a value of the wrong
type or out of range a ``ValueError`` (pydantic's ``ValidationError``) that names the
knob and, for a choice, its choices. A typo never passes silently as the default.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Annotated, Any, Literal

import pydantic
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass

__all__ = ["EventShape", "Knobs", "PollShape", "knob_names", "make_knobs", "parse_knob"]

EventShape = Literal["adk", "flat"]
"""``/run_sse`` events: google-adk 2.x's shape, or the flat one (API.md)."""
PollShape = Literal["data", "top", "alternate"]
"""Render poll answers: status under ``data``, at the top (v1.9), or switching at each poll."""

_Seconds = Annotated[float, Field(ge=0)]
_Rate = Annotated[float, Field(ge=0, le=1)]
_Credits = Annotated[int, Field(ge=0)]
_Pixels = Annotated[int, Field(gt=0)]


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Knobs:
    """The emulator's settings that routes read at each request (costs, pacing, shapes).

    Replace them while serving with ``emu.knobs = dataclasses.replace(emu.knobs, ...)``.

    Attributes:
        generation_cost: credits charged by the agent for a generated clip (100).
        edit_cost: credits charged by the agent for editing, once per session (50).
        render_seconds: how long a render takes at the least.
        sse_delay: pause between chat events.
        no_text_rate: share of edits whose stream carries no text.
        require_attribution: exports need the ``X-Skill-*`` attribution headers (402).
        event_shape: ``"adk"`` (default) or ``"flat"`` chat events.
        poll_shape: the render poll answer's shape: ``data``, ``top`` (v1.9) or
            ``alternate`` (switch at each poll, the default).
        clip_seconds, clip_width, clip_height, clip_fps: the generated clips' length,
            size and frame rate.
        canvas_width, canvas_height: a new session's canvas (1920x1080): what an export
            renders at when neither the draft nor the request gives a size.
        heartbeat_every: keep-alive pacing while the chat agent works.
        think_seconds: how long the agent sends only keep-alives before acting.
        temporary_issue_rate: share of edits followed by a trailing
            "I encountered a temporary issue" text (noise the SDK must ignore).
        adk_streaming: stream every turn as ADK does with ``"streaming": true`` (partial
            chunks, then the aggregate under the same id), whatever the body says: a
            server that streams by default. Off: the body decides.
        adk_keepalives: the ADK shape sends keep-alives (empty ``data:`` lines and
            comments) while the agent works (True); False is real ADK: silence.
        thoughts: each ADK model turn opens with a ``"thought": true`` part.
        text_with_call: the ADK model turn that calls a tool says something first, text
            and ``functionCall`` in one event's parts.
        actions_events: after each tool result, ADK's actions-only event (no
            ``content``; ``stateDelta`` and ``artifactDelta``, the result's id).
        content_disposition: a ``Content-Disposition`` header sent with every served
            file, ``{name}`` standing for the file's name (e.g.
            ``'attachment; filename="{name}"'``; a hostile one: ``'...filename="../x"'``).
        render_slots: renders that run at once (2), each in a worker thread; the others
            wait, ``pending``.
        export_status: the status the export answer names (``pending``; any text, e.g.
            ``queued``, plays a service outside the contract).
    """

    generation_cost: _Credits = 100
    edit_cost: _Credits = 50
    render_seconds: _Seconds = 1.0
    sse_delay: _Seconds = 0.0
    no_text_rate: _Rate = 0.3
    require_attribution: bool = True
    event_shape: EventShape = "adk"
    poll_shape: PollShape = "alternate"
    # The chat agent (routes_chat): generated clip size, keep-alive pacing, slowness, noise.
    clip_seconds: Annotated[float, Field(gt=0)] = 1.0
    clip_width: _Pixels = 320
    clip_height: _Pixels = 180
    clip_fps: _Pixels = 12
    # A new session's canvas: what an export renders at unless the draft or request sizes it.
    canvas_width: _Pixels = 1920
    canvas_height: _Pixels = 1080
    heartbeat_every: Annotated[float, Field(gt=0)] = 0.5
    think_seconds: _Seconds = 0.0
    temporary_issue_rate: _Rate = 0.0
    # The ADK event shape (routes_chat): google-adk 2.x's streams, see tests/adk/captures.
    adk_streaming: bool = False
    adk_keepalives: bool = True
    thoughts: bool = False
    text_with_call: bool = False
    actions_events: bool = False
    # Files: a Content-Disposition header template for served files ({name}: the file's name).
    content_disposition: str | None = None
    # Renders that run at once (each in a worker thread); the others wait their turn.
    render_slots: int = 2
    # The status the export answer names ("queued" plays a service outside the contract).
    export_status: str = "pending"


def knob_names() -> tuple[str, ...]:
    """Every knob's name, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(Knobs))


def _check_names(names: Any) -> None:
    known = knob_names()
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"unknown emulator knob {name!r}{hint} (knobs: {', '.join(sorted(known))})"
            )


def make_knobs(base: Knobs | None = None, **values: Any) -> Knobs:
    """``base`` (the defaults when ``None``) with ``values`` replaced, every one checked."""
    _check_names(values)
    return dataclasses.replace(base, **values) if base is not None else Knobs(**values)


def parse_knob(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` (a command-line ``--knob``) as a knob name and its checked value.

    ``ValueError`` (argparse shows it) for an unknown name or a value the knob refuses.
    """
    name, sep, raw = text.partition("=")
    if not sep:
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    try:
        _check_names([name])
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    value: Any = raw
    field = next(f for f in dataclasses.fields(Knobs) if f.name == name)
    if field.default is None and raw.strip().lower() in ("", "none"):
        value = None
    try:
        knobs = Knobs(**{name: value})  # pydantic reads "0.5", "true", "8" as the knob's type
    except pydantic.ValidationError as exc:
        raise ValueError(_first_error(exc)) from None
    return name, getattr(knobs, name)


def _first_error(exc: pydantic.ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"knob {where}: {error['msg']} (got {error['input']!r})"
