"""Crash benchmark: SIGKILL ``generate_and_export`` / ``batch`` at seeded points, recover, count.

    .venv/bin/python benchmarks/crash.py --seeds 200            # prints the table
    .venv/bin/python benchmarks/crash.py --seeds 200 --json crash.json
    .venv/bin/python benchmarks/crash.py --from crash.json --doc  # into the doc

Each seed runs the job in a child process against an emulator in another
process, kills it at the seed's point (a phase and an event of it, see
``tests/crash/harness.py``), recovers in a new process (two at once for some
seeds) with the documented recovery, and checks the invariants. The table: seeds,
kills per phase, invariant violations per kind, recovery time p50/p95.
``--doc`` writes it between the ``crash`` markers of docs/reliability.md, which
``scripts/reliability_report.py`` keeps when it regenerates the page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.crash.harness import (  # noqa: E402 - after the path set-up
    PHASES,
    VIOLATIONS,
    EmulatorProcess,
    SeedResult,
    known_bug,
    run_seed,
)

DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- crash:begin -->", "<!-- crash:end -->"


def _record(result: SeedResult) -> dict[str, Any]:
    return {
        "seed": result.seed, "mode": result.mode, "concurrent": result.concurrent,
        "planned": result.planned, "killed": result.killed,
        "violations": result.violations, "recovery_seconds": result.recovery_seconds,
        "errors": result.errors, "notes": result.notes, "known": known_bug(result),
    }  # fmt: skip


def run(seeds: range, budget: float | None) -> list[dict[str, Any]]:
    records = []
    started = time.monotonic()
    with EmulatorProcess() as emu, tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            if budget is not None and time.monotonic() - started > budget:
                print(f"time budget spent after {len(records)} seeds", file=sys.stderr)
                break
            result = run_seed(emu, seed, Path(tmp) / f"seed-{seed}")
            records.append(_record(result))
            if result.violations:
                print(result.describe(), file=sys.stderr, flush=True)
    return records


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def table(records: list[dict[str, Any]]) -> str:
    kills = {phase: 0 for phase in (*PHASES, "none")}
    for r in records:
        kills[r["killed"]] = kills.get(r["killed"], 0) + 1
    found: dict[str, list[int]] = {kind: [] for kind in VIOLATIONS}
    for r in records:
        for kind in sorted({kind for kind, _ in r["violations"]}):
            found.setdefault(kind, []).append(r["seed"])
    times = sorted(r["recovery_seconds"] for r in records)
    batch = sum(r["mode"] == "batch" for r in records)
    twins = sum(r["mode"] == "twin" for r in records)
    racing = sum(r["concurrent"] for r in records)
    clean = sum(not r["violations"] for r in records)
    lines = [
        f"{len(records)} seeds ({batch} three-item batches, {twins} jobs run by two processes "
        f"at once, {racing} recovered by two processes at once); {clean} with every "
        "invariant kept.",
        "",
        "| phase at the kill | " + " | ".join(kills) + " |",
        "|---|" + "---|" * len(kills),
        "| kills | " + " | ".join(str(n) for n in kills.values()) + " |",
        "",
        "| invariant violated | seeds | first seeds |",
        "|---|---|---|",
    ]
    for kind, seeds in found.items():
        first = ", ".join(str(s) for s in seeds[:8]) or "—"
        lines.append(f"| `{kind}` | {len(seeds)} | {first} |")
    lines += [
        "",
        f"Recovery time (new process to file on disk, two processes counted once): "
        f"p50 {_pct(times, 50):.2f} s, p95 {_pct(times, 95):.2f} s.",
    ]
    return "\n".join(lines)


def write_doc(text: str, records: list[dict[str, Any]], label: str) -> None:
    doc = DOC.read_text()
    start, end = doc.find(BEGIN), doc.find(END)
    if start < 0 or end < start:
        sys.exit(f"{DOC} has no crash markers: run scripts/reliability_report.py first")
    known = sorted({r["known"] for r in records if r["known"]})
    notes = "".join(f"\n- {why}." for why in known) if known else "\nNone."
    unexplained = [str(r["seed"]) for r in records if r["violations"] and not r["known"]]
    if unexplained:
        notes += f"\n- Not classified (see the seeds' output): seeds {', '.join(unexplained)}."
    body = (
        f"{BEGIN}\n### Measured\n\n`benchmarks/crash.py --seeds {len(records)}` on {label}:"
        f"\n\n{text}\n\nViolations the harness knows the cause of:"
        f"{notes}\n{END}"
    )
    DOC.write_text(doc[:start] + body + doc[end + len(END) :])
    print(f"wrote the crash figures into {DOC}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first", type=int, default=0, help="the first seed")
    parser.add_argument("--budget", type=float, help="stop starting seeds after this many s")
    parser.add_argument("--json", type=Path, help="save the per-seed records here")
    parser.add_argument("--from", dest="source", type=Path, help="records of an earlier run")
    parser.add_argument("--doc", action="store_true", help="write the table into the doc")
    parser.add_argument("--label", default="this branch", help="what code was measured")
    args = parser.parse_args()
    if args.source:
        records = json.loads(args.source.read_text())
        for r in records:  # classified again: the known bugs may have changed since
            result = SeedResult(r["seed"], r["mode"], r["concurrent"], r["planned"], r["killed"])
            result.violations = [(kind, detail) for kind, detail in r["violations"]]
            result.errors = list(r.get("errors", []))
            r["known"] = known_bug(result)
    else:
        records = run(range(args.first, args.first + args.seeds), args.budget)
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    text = table(records)
    print(text)
    if args.doc:
        write_doc(text, records, args.label)


if __name__ == "__main__":
    main()
