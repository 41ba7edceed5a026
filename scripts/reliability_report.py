"""Write ``docs/reliability.md`` from a run of the fault matrix (``tests/faults``).

    .venv/bin/python scripts/reliability_report.py            # run the tests, write the doc
    .venv/bin/python scripts/reliability_report.py --from out.json   # from a saved run

The tests record what each case did (``NEMO_RELIABILITY_OUT``, see
``tests/faults/conftest.py``); this script runs them, refuses to write anything
if the run failed or missed a case, and renders the table. The sections between
the ``load`` and the ``crash`` markers belong to ``benchmarks/load.py`` and
``benchmarks/crash.py`` and are kept as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.matrix import (  # noqa: E402 - after the path set-up
    CASES,
    KIND_LABELS,
    KINDS,
    OP_LABELS,
    OPS,
    ROUTE,
    case_id,
)

DOC = ROOT / "docs" / "reliability.md"
LOAD_BEGIN = "<!-- load:begin -->"
LOAD_END = "<!-- load:end -->"
LOAD_PLACEHOLDER = f"""{LOAD_BEGIN}
## Load

_Not measured yet._ `python benchmarks/load.py` runs concurrent `generate_and_export`
flows against one emulator process and writes its figures (completed, failed, p50/p95
latency, peak RSS, open file descriptors before and after) here, between these markers.
{LOAD_END}"""


CRASH_BEGIN = "<!-- crash:begin -->"
CRASH_END = "<!-- crash:end -->"
CRASH_PLACEHOLDER = f"""{CRASH_BEGIN}
### Measured

_Not measured yet._ `python benchmarks/crash.py --seeds 200 --doc` writes its table
(seeds, kills per phase, invariant violations per kind, recovery time p50/p95) here.
{CRASH_END}"""
CRASH_SECTION = """## Crash and cancellation guarantees

What a program that is killed (SIGKILL, power loss) or cancelled in the middle of
`generate_and_export` or `batch` can count on, and how each promise is tested:

- **At most one render per job.** An export is written to the job journal before
  the request leaves; a lost answer is looked up under the same render id before a
  second render is ever started.
- **Every render the service accepted is journaled until its file is downloaded**:
  `nemo.renders.pending()` lists it in any later process, and
  `nemo.renders.download(entry.render_id, entry.path)` finishes it.
- **The target is absent or the render, byte for byte.** The body goes to a
  `.part` file beside the target and is linked into place only once whole and
  fsynced; a `.part` file is what a later download resumes from.
- **Generation is charged once**: recovery resumes from the furthest id (render,
  else session) and never re-sends a session's generation message.
- **One run per output path.** `generate_and_export`, each `batch` item and
  `iterate` with an export hold an OS lock of their `out` (`.<name>.job.lock`
  beside it, `fcntl.flock`) from before the first request until the file is placed
  or the run fails. A second run with the same `out` (another task, or a process a
  queue delivered the job to twice) waits for it without blocking the event loop,
  then downloads the render the first left journaled for `out` (a first run killed
  or failed after its export), or, when the first placed the file, raises
  `FileExistsError` as for a file there at the start (for a queue: the job is done).
- **A cancel is a cancel**: `CancelledError` at every await point, never a result;
  nothing at `out` but the whole render; every accepted render journaled. A cancel
  in the middle of a download keeps the `.part` file the journal points at, for the
  next download to resume.

Limits: API.md has no idempotency key, and the journal holds renders, not
sessions: a run killed after its generation was charged but before its export
leaves nothing to resume from, and the run that replaces it generates (and is
charged) again; the task-queue recipe's job store resumes from the session id. The
lock is advisory and local: it keeps apart runs on one machine (or a filesystem
whose `flock` is shared), and on Windows, which has no `fcntl`, none are kept apart.
A journaled render for `out` is taken as the job's own (`renders.forget` it to
start afresh).

How it is tested:

- `tests/crash/test_crash.py` (marker `crash`, 20 seeds): the job runs in a child
  process against the emulator in another process and SIGKILLs itself at a seeded
  event of a seeded phase (token, session, chat, export, poll, download, rename;
  events come from `on_progress`, an `EventHandler`, the SDK's debug log and the
  interpreter's audit hooks, so a seed names the same point on a busy machine); a
  new process then recovers with the documented recovery (two processes at once
  for some seeds, as a queue redelivering the job would; and for some, two jobs run
  at once from the start, the `twin`s). The invariants above are
  checked from the emulator's side and from the disk after the kill and after
  the recovery. A quarter of the seeds are a three-item `batch`.
- `tests/crash/test_cancel_sweep.py`: `generate_and_export` against an in-process
  emulator, cancelled once at each await point it passes. The points are found by
  driving the coroutine by hand and reading the chain of suspended frames, not by
  timers, so every point is hit exactly.
- `benchmarks/crash.py --seeds 200` runs the harness at length; its last figures:

"""


def crash_section(existing: str) -> str:
    """The crash section: the fixed text and the benchmark's figures kept from the doc."""
    start, end = existing.find(CRASH_BEGIN), existing.find(CRASH_END)
    figures = (
        CRASH_PLACEHOLDER if start < 0 or end < start else existing[start : end + len(CRASH_END)]
    )
    return CRASH_SECTION + figures


def run_tests() -> dict[str, Any]:
    """Run ``tests/faults`` with the outcome log on; its cases, or exit on a failed run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "outcomes.json"
        env = {**os.environ, "NEMO_RELIABILITY_OUT": str(out)}
        command = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/faults",
            # The doc's own freshness check would refuse the very change being written.
            "--ignore=tests/faults/test_reliability_doc.py",
        ]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"the fault matrix failed (pytest exit {done.returncode}); doc not written")
        cases: dict[str, Any] = json.loads(out.read_text())
        return cases


def cell(record: dict[str, Any]) -> str:
    outcome = str(record["outcome"])
    route = ROUTE[record["op"]]
    seen = record["requests_text"] if not record.get("xfail") else _observed(record)
    first = seen.split(",")[0].removeprefix(f"{route} ")
    text = "recovered" if outcome == "recovered" else f"`{outcome}`"
    if outcome.startswith("wrong result"):
        text = "**wrong result**"
    more = " ⚠" if record.get("xfail") else ""
    fallback = ", then fallback" if record["requests"].get("download", 0) > 0 else ""
    return f"{text} ({first}{fallback}){more}"


def _observed(record: dict[str, Any]) -> str:
    return ", ".join(
        f"{route} +{n}" if route == "token" else f"{route} {n}"
        for route, n in record["requests"].items()
    )


def soak_section(record: dict[str, Any] | None) -> list[str]:
    if record is None:
        return []
    failed = ", ".join(f"`{name}` {n}" for name, n in sorted(record["failed"].items()))
    text = (
        f"`tests/faults/test_soak.py`: {record['flows']} concurrent `generate_and_export` "
        f"flows with {record['faults_planned']} faults drawn at random (seed {record['seed']}) "
        "from the kinds above; which flow meets which fault is up to the scheduler. In the "
        f"run that wrote this page, {record['faults_fired']} faults fired, "
        f"{record['completed']} flows recovered and delivered their file, and the others "
        f"ended with a documented typed error ({failed or 'none'}), in {record['seconds']} s. "
        "Nothing was lost (no file at a failed flow's target, every render on the server "
        "downloaded or in the journal) and no chat message was accepted twice."
    )
    return ["", "## Soak", "", *textwrap.wrap(text, width=88)]


def render(cases: dict[str, Any], load_section: str, crash: str = CRASH_PLACEHOLDER) -> str:
    soak = cases.pop("soak", None)
    missing = [case_id(op, kind) for op, kind in CASES if case_id(op, kind) not in cases]
    if missing:
        sys.exit(f"the run did not record {len(missing)} case(s): {', '.join(missing)}")
    lines = [
        "# Reliability",
        "",
        "<!-- Generated by scripts/reliability_report.py from a run of tests/faults: "
        "do not edit by hand (the load and crash figures are benchmarks/load.py's and "
        "benchmarks/crash.py's). -->",
        "",
        "Every operation of the SDK was run against the emulator (a real HTTP server on",
        "127.0.0.1) with one planned fault, and the outcome checked against the wire",
        "contract (API.md): either the operation **recovered** by itself, or it raised the",
        "documented typed error (every one a `nemo_sdk.NemoError`). The number in brackets",
        "is how many requests the faulted route received (for downloads, the CDN origin;",
        '"then fallback": the authenticated fallback route delivered the file). "—": the',
        "fault cannot happen there (the CDN speaks no API codes, the token call carries no",
        "token, ...). ⚠ marks a known gap, expected to fail in the test suite",
        "(`xfail(strict=True)`) until fixed.",
        "",
        "Every case also checks that nothing was lost or doubled: no partial file at a",
        "target path (a `.part` file beside it resumes the download), no render on the",
        "server without an entry in the job journal (`nemo.renders.pending()`), no chat",
        "edit applied twice, no second session or upload.",
        "",
        "## Fault matrix",
        "",
        "| fault | " + " | ".join(OP_LABELS[op] for op in OPS) + " |",
        "|---|" + "---|" * len(OPS),
    ]
    for kind in KINDS:
        row = [KIND_LABELS[kind]]
        for op in OPS:
            cid = case_id(op, kind)
            row.append(cell(cases[cid]) if (op, kind) in CASES else "—")
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        f"{len(CASES)} cases. Fault parameters: 429 with `Retry-After: 1` (waited through a",
        "test clock); drop and slow act after the server did its work, so the answer is",
        "what is lost; slow answers 0.3 s late against a 0.08 s read timeout.",
        "",
        "## Cases",
        "",
        "| case | outcome | requests | why |",
        "|---|---|---|---|",
    ]
    for op in OPS:
        for kind in KINDS:
            if (op, kind) not in CASES:
                continue
            cid = case_id(op, kind)
            record = cases[cid]
            outcome = str(record["outcome"])
            shown = "recovered" if outcome == "recovered" else f"`{outcome}`"
            requests = record["requests_text"] if not record.get("xfail") else _observed(record)
            why = str(record.get("note", ""))
            if record.get("xfail"):
                shown += " (xfail)"
            lines.append(f"| `{cid}` | {shown} | {requests} | {why} |")
    gaps = [(cid, r) for cid, r in sorted(cases.items()) if r.get("xfail")]
    lines += ["", "## Known gaps", ""]
    if gaps:
        for cid, record in gaps:
            lines.append(
                f"- `{cid}`: expected {record['expected']}, got {record['outcome']}; "
                f"{record['xfail']}."
            )
    else:
        lines.append("None: every case does what API.md documents.")
    lines += soak_section(soak)
    lines += ["", crash, "", load_section, ""]
    return "\n".join(lines)


def load_section(existing: str) -> str:
    """The load section of the current doc (between the markers), or the placeholder."""
    start, end = existing.find(LOAD_BEGIN), existing.find(LOAD_END)
    if start < 0 or end < start:
        return LOAD_PLACEHOLDER
    return existing[start : end + len(LOAD_END)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, help="outcomes JSON of a run")
    parser.add_argument("--out", type=Path, default=DOC)
    args = parser.parse_args()
    cases = json.loads(args.source.read_text()) if args.source else run_tests()
    existing = args.out.read_text() if args.out.exists() else ""
    args.out.write_text(render(cases, load_section(existing), crash_section(existing)))
    print(f"wrote {args.out} ({len(CASES)} cases)")


if __name__ == "__main__":
    main()
