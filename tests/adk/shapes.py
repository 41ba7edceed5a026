"""What an ADK ``/run_sse`` stream looks like, reduced to what must not drift.

:func:`signature` turns a raw stream into its pattern: events grouped by ``id`` (a
model turn's partial chunks and their aggregate share one), each event reduced to
its *kind* (what its parts are, or ``error``/``actions``/``role``/``error_line``)
and its ``partial`` marker (``P`` true, ``F`` false, ``-`` absent), runs of one
kind collapsed to ``kind+``. :func:`keysets` gathers, per kind, the key sets seen
(top level, ``actions``, each part type), so field names and casing are compared.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

CAPTURES = Path(__file__).parent / "captures"
MODES = ("plain", "streaming")


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    """The JSON events of a raw SSE body (keep-alives, comments and empty lines dropped)."""
    events = []
    for block in raw.decode().split("\n\n"):
        data = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
        text = "\n".join(data).strip()
        if text:
            events.append(json.loads(text))
    return events


def capture(case: str, mode: str) -> list[dict[str, Any]]:
    return parse_sse((CAPTURES / f"{case}.{mode}.sse").read_bytes())


def _part_kind(part: dict[str, Any]) -> str:
    if part.get("thought"):
        return "thought"
    for key, name in (("text", "text"), ("functionCall", "call"), ("functionResponse", "result")):
        if key in part:
            return name
    return "other:" + ",".join(sorted(part))


def kind(event: dict[str, Any]) -> str:
    """``<what>/<partial>``: e.g. ``text/P``, ``call+text/F``, ``result/-``, ``error/-``."""
    if "error" in event and "invocationId" not in event:
        return "error_line"
    content = event.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    if "errorCode" in event:
        what = "error"
    elif content is None:
        what = "actions"
    elif not parts:
        what = "role"
    else:
        what = "+".join(sorted({_part_kind(p) for p in parts}))
    mark = {True: "P", False: "F"}.get(event.get("partial"), "-")  # type: ignore[arg-type]
    return f"{what}/{mark}"


def groups(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Consecutive events with one ``id`` (the error line, which has none, alone)."""
    out: list[list[dict[str, Any]]] = []
    for event in events:
        if out and "id" in event and out[-1][-1].get("id") == event["id"]:
            out[-1].append(event)
        else:
            out.append([event])
    ids = [g[0]["id"] for g in out if "id" in g[0]]
    assert len(ids) == len(set(ids)), f"an id came back after another: {ids}"
    return out


def _collapse(kinds: list[str]) -> str:
    out: list[str] = []
    for k in kinds:
        if out and out[-1].rstrip("+") == k:
            out[-1] = k + "+"
        else:
            out.append(k)
    return " ".join(out)


def signature(events: list[dict[str, Any]]) -> list[str]:
    """Each id group's collapsed kinds, in order."""
    return [_collapse([kind(e) for e in g]) for g in groups(events)]


def keysets(events: list[dict[str, Any]]) -> dict[str, set[frozenset[str]]]:
    """Per kind (and per ``actions``/part type): the key sets seen."""
    seen: dict[str, set[frozenset[str]]] = defaultdict(set)
    for event in events:
        k = kind(event)
        seen[k].add(frozenset(event))
        if isinstance(event.get("actions"), dict):
            seen["actions"].add(frozenset(event["actions"]))
        if isinstance(event.get("content"), dict):
            seen["content"].add(frozenset(event["content"]))
            for part in event["content"].get("parts") or []:
                seen[f"part:{_part_kind(part)}"].add(frozenset(part))
                for inner in ("functionCall", "functionResponse"):
                    if inner in part:
                        seen[inner].add(frozenset(part[inner]))
        if k == "error_line":
            seen["error_details"].add(frozenset(event["error_details"]))
    return seen


def turn_rules(events: list[dict[str, Any]], mode: str) -> None:
    """ADK's per-mode rules: ``partial`` only when streaming; a streamed turn's partials
    come before the one final of their id, whose ``finishReason`` ends the group."""
    if mode == "plain":
        assert all("partial" not in e for e in events)
        return
    for group in groups(events):
        marks = [e.get("partial") for e in group]
        if True not in marks or False not in marks:
            continue  # not streamed, or cut short by a failure (its error follows)
        assert marks.count(False) == 1 and marks[-1] is False, marks
        finishes = [i for i, e in enumerate(group) if "finishReason" in e]
        assert finishes and finishes[-1] == len(group) - 1
