"""The crash harness: run a job in a child process, SIGKILL it on cue, recover, check.

Used by ``tests/crash/test_crash.py`` (20 seeds) and ``benchmarks/crash.py``
(hundreds). Three processes per seed, none sharing memory: the emulator
(``emulator_proc``, one per run), the job (``child``) and the recovery
(``recover``; two at once in the concurrent scenario, as a queue that redelivers
the job would run them). The invariants are checked from the emulator's side
(its control origin) and from the disk:

* ``two_renders``: at most one render per job (per session, and no more than jobs);
* ``not_journaled``: every render the emulator accepted is in the journal
  (``renders.pending()``) until its file is downloaded;
* ``target_corrupt``: a target is absent or byte-identical to its render;
* ``part_left``: no ``.part`` file after a successful recovery;
* ``charged_twice``: generation charged once per job (twice allowed in ``twin`` mode:
  a first run killed mid-generation, before its export, is generated again by the
  second; the journal holds renders, not sessions);
* ``journal_left``: nothing left in the journal after a successful recovery;
* ``render_lost``: a completed render whose file is nowhere after recovery;
* ``recovery_failed``: a recovery process reported an error or crashed;
* ``wrong_name``: a job's render was recovered under another name than the job's
  target (the journal did not hold the path).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PHASES = ("token", "session", "chat", "export", "poll", "download", "rename")
VIOLATIONS = (
    "two_renders",
    "not_journaled",
    "target_corrupt",
    "part_left",
    "charged_twice",
    "journal_left",
    "render_lost",
    "recovery_failed",
    "wrong_name",
)
GENERATION_COST = 100
STARTING_CREDITS = 10_000
PROMPTS = ("a red fox in snow", "a blue boat at dawn", "a green hill in rain")
# Events per phase a kill is drawn from (1..cap), and the largest extra delay (seconds).
KILL_EVENTS = {
    "token": 3,
    "session": 1,
    "chat": 20,
    "export": 4,
    "poll": 20,
    "download": 6,
    "rename": 5,
}
KILL_DELAY = {
    "token": 0.005,
    "session": 0.01,
    "chat": 0.05,
    "export": 0.01,
    "poll": 0.05,
    "download": 0.005,
    "rename": 0.002,
}
EMULATOR_KNOBS = {
    "render_seconds": 0.25,
    "clip_seconds": 1.0,
    "clip_width": 320,
    "clip_height": 180,
    "clip_fps": 12,
    "canvas_width": 320,  # an export's size unless the draft says: not 1080p
    "canvas_height": 180,
    "heartbeat_every": 0.05,
    "sse_delay": 0.005,
}


def _env(xdg: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if xdg is not None:
        env["XDG_CONFIG_HOME"] = str(xdg)
    return env


class EmulatorProcess:
    """``tests.crash.emulator_proc`` in a process of its own."""

    def __init__(self, **knobs: Any) -> None:
        args = [sys.executable, "-m", "tests.crash.emulator_proc"]
        args += ["--starting-credits", str(STARTING_CREDITS)]
        for name, value in {**EMULATOR_KNOBS, **knobs}.items():
            args += ["--knob", f"{name}={value}"]
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.kill()
            raise RuntimeError("the emulator process did not start")
        urls = json.loads(line)
        self.api, self.control = urls["api"], urls["control"]

    def state(self, client_id: str | None) -> dict[str, Any]:
        url = f"{self.control}/state?client_id={client_id or ''}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class SeedResult:
    """What one seed did and which invariants broke."""

    seed: int
    mode: str
    concurrent: bool
    planned: str
    killed: str  # the phase of the last event before death; "none" when the job finished
    violations: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # what the recovery processes reported
    notes: list[str] = field(default_factory=list)  # expected failures (the losing twin)
    recovery_seconds: float = 0.0

    def describe(self) -> str:
        bad = "; ".join(f"{kind}: {detail}" for kind, detail in self.violations)
        return (
            f"seed {self.seed} ({self.mode}{', 2 recoverers' if self.concurrent else ''}) "
            f"planned {self.planned}, killed in {self.killed}: {bad or 'ok'}"
        )


def kill_plan(seed: int) -> dict[str, Any]:
    """The seed's kill point: a phase, an event of it, an extra delay (half the time 0)."""
    rng = random.Random(seed)
    phase = PHASES[seed % len(PHASES)]  # every phase equally often, whatever the seed range
    n = rng.randint(1, KILL_EVENTS[phase])
    delay = 0.0 if rng.random() < 0.5 else round(rng.uniform(0, KILL_DELAY[phase]), 4)
    return {"phase": phase, "n": n, "delay": delay}


def scenario(seed: int) -> tuple[str, bool]:
    """The seed's job and whether two recoveries race.

    ``single``: one ``generate_and_export``; ``batch``: a three-item ``batch``;
    ``twin``: two processes run the same ``generate_and_export`` at once (same
    ``out``, same config home: a queue that delivered the job twice), the first
    one killed on cue, the second left to finish.
    """
    rng = random.Random(seed * 7919 + 1)
    draw = rng.random()
    mode = "batch" if draw < 0.25 else "twin" if draw < 0.45 else "single"
    return mode, mode != "twin" and rng.random() < 0.3


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(out_dir: Path) -> tuple[dict[str, str], list[str]]:
    """``{name: sha256}`` of the visible files, and the names of ``.part`` files."""
    files = {
        p.name: _sha(p) for p in out_dir.iterdir() if p.is_file() and not p.name.startswith(".")
    }
    parts = sorted(p.name for p in out_dir.iterdir() if p.name.endswith(".part"))
    return files, parts


def _outcome(trace: Path) -> str:
    lines = [x for x in trace.read_text().splitlines() if x.startswith("RESULT")]
    return lines[-1] if lines else "no result"


def _client_id(xdg: Path) -> str | None:
    path = xdg / "nemovideo" / "client_id"
    return path.read_text().strip() if path.exists() else None


def _killed_phase(trace: Path) -> tuple[str, bool]:
    phase, finished = "none", False
    if trace.exists():
        for line in trace.read_text().splitlines():
            if line.startswith("E "):
                phase = line.split()[1]
            elif line.startswith("RESULT"):
                finished = True
    return phase, finished


def _check_renders(result: SeedResult, state: dict[str, Any], jobs: int, when: str) -> None:
    renders = state["renders"]
    per_session: dict[str, int] = {}
    for r in renders:
        per_session[r["session_id"]] = per_session.get(r["session_id"], 0) + 1
    if len(renders) > jobs or any(n > 1 for n in per_session.values()):
        result.violations.append(
            ("two_renders", f"{when}: {len(renders)} renders for {jobs} job(s)")
        )


def _check_targets(result: SeedResult, state: dict[str, Any], out_dir: Path, when: str) -> None:
    known = {r["sha256"] for r in state["renders"] if r["sha256"]}
    files, _ = _files(out_dir)
    for name, digest in files.items():
        if digest not in known:
            result.violations.append(("target_corrupt", f"{when}: {name} is no render's bytes"))


def run_seed(
    emu: EmulatorProcess,
    seed: int,
    workdir: Path,
    timeout: float = 60.0,
    *,
    pinned: tuple[str, bool, dict[str, Any]] | None = None,
) -> SeedResult:
    """Run, kill, recover and check one seed in ``workdir`` (created).

    ``pinned`` replaces the seed's draw: ``(mode, concurrent, kill plan)``.
    """
    mode, concurrent = scenario(seed) if pinned is None else pinned[:2]
    kill = kill_plan(seed) if pinned is None else pinned[2]
    jobs = 3 if mode == "batch" else 1
    # The twins take turns (the job lock of ``out``): the second downloads a render the
    # first left journaled, so one render; but a first killed mid-generation, before its
    # export, left no record the SDK can resume from: the second generates again.
    charges = 2 if mode == "twin" else jobs
    xdg, out_dir = workdir / "xdg", workdir / "out"
    out_dir.mkdir(parents=True)
    trace = workdir / "trace"
    plan = {
        "mode": mode,
        "api": emu.api,
        "out_dir": str(out_dir),
        "out": "video.mp4",
        "prompts": list(PROMPTS[:jobs]),
        "trace": str(trace),
        "kill": kill,
        "draft_wait": 1.5,
    }
    plans = [plan]
    if mode == "twin":
        plans.append({**plan, "kill": None, "trace": str(workdir / "trace-twin")})
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.crash.child", json.dumps(p)],
            cwd=ROOT,
            env=_env(xdg),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in plans
    ]
    codes = []
    for proc in children:
        _, err = proc.communicate(timeout=timeout)
        codes.append((proc.returncode, err))
    killed, finished = _killed_phase(trace)
    result = SeedResult(seed, mode, concurrent, kill["phase"], "none" if finished else killed)
    if mode == "twin":
        # The twin that waited for the job lock and found the file in place fails
        # (FileExistsError): expected, as long as nothing is corrupted or lost.
        for (code, _), name in zip(codes, ("trace", "trace-twin"), strict=True):
            if code not in (0, -9):
                result.notes.append(f"twin: {_outcome(workdir / name)}")
    code, err = codes[0]
    if code not in (0, -9) and mode != "twin":
        result.violations.append(("recovery_failed", f"the job itself failed: {err[-300:]}"))
    client_id = _client_id(xdg)
    before = emu.state(client_id)
    _check_renders(result, before, jobs, "after the kill")
    _check_targets(result, before, out_dir, "after the kill")
    on_disk = set(_files(out_dir)[0].values())

    started = time.monotonic()
    recoverers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.crash.recover", json.dumps({**plan, "resume": i == 0})],
            cwd=ROOT,
            env=_env(xdg),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2 if concurrent else 1)
    ]
    outputs = []
    for proc in recoverers:
        out, err = proc.communicate(timeout=timeout)
        outputs.append((proc.returncode, out, err))
    result.recovery_seconds = time.monotonic() - started

    journaled: set[str] = set()
    for code, out, err in outputs:
        lines = out.splitlines()
        for line in lines:
            if line.startswith("PENDING "):
                journaled |= {p["render_id"] for p in json.loads(line[8:])}
            elif line.startswith("ERROR "):
                result.errors.append(line[6:300])
            elif line.startswith("PENDING_AFTER ") and json.loads(line[14:]) and len(outputs) == 1:
                left = [p["render_id"] for p in json.loads(line[14:])]
                result.violations.append(("journal_left", f"still pending: {left}"))
        if code != 0 or "RESULT" not in out:
            result.violations.append(("recovery_failed", f"exit {code}: {err.strip()[-300:]}"))
    for r in before["renders"]:
        # Forgotten rightly only when the child itself had put the file in place.
        if r["id"] not in journaled and r["sha256"] not in on_disk:
            result.violations.append(("not_journaled", f"render {r['id']} ({r['status']})"))

    after = emu.state(client_id or _client_id(xdg))
    _check_renders(result, after, jobs, "after recovery")
    _check_targets(result, after, out_dir, "after recovery")
    files, parts = _files(out_dir)
    # Two recoveries of one job at once: the one that finds the file already in place
    # fails cleanly (FileExistsError); the other one's success is the job's.
    clean_loss = concurrent and all("FileExistsError" in e for e in result.errors)
    if result.errors and not clean_loss:
        result.violations.extend(("recovery_failed", e) for e in result.errors)
    ok = not any(kind == "recovery_failed" for kind, _ in result.violations)
    if parts and ok:
        result.violations.append(("part_left", ", ".join(parts)))
    present = set(files.values())
    for r in after["renders"]:
        if r["status"] == "completed" and r["sha256"] not in present:
            result.violations.append(("render_lost", f"render {r['id']} has no file"))
    if mode != "batch" and ok and "video.mp4" not in files:
        result.violations.append(("render_lost", "video.mp4 missing after recovery"))
    if mode != "batch" and set(files) - {"video.mp4"}:
        # The journal did not know the job's path: the README's fallback name was used.
        extra = sorted(set(files) - {"video.mp4"})
        result.violations.append(("wrong_name", f"recovered as {extra}, not video.mp4"))
    if after["available"] is not None:
        spent = STARTING_CREDITS - after["available"]  # frozen (still working) counts as spent
        if spent > GENERATION_COST * charges:
            result.violations.append(("charged_twice", f"spent {spent} for {jobs} job(s)"))
    if concurrent and ok and _pending_now(xdg):
        result.violations.append(("journal_left", "entries left after both recoveries"))
    return result


def _pending_now(xdg: Path) -> list[str]:
    """The journal's render ids, read by the harness straight from the file."""
    path = xdg / "nemovideo" / "renders.sqlite3"
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            return [row[0] for row in db.execute("SELECT render_id FROM renders")]
        except sqlite3.Error:
            return []


# Bugs the harness found that no branch fixes yet: (what a violation's text holds, why).
# tests/crash marks a seed xfail only when every violation it saw is one of these.
KNOWN_BUGS: tuple[tuple[str, str], ...] = ()
"""``(needle, why)``: violations a seed may show until a branch fixes them (none left)."""


_FOLLOW_ON = ("journal_left", "part_left", "render_lost")


def known_bug(result: SeedResult) -> str | None:
    """Why the seed's violations are all known bugs, or ``None`` (clean, or something new)."""
    texts = [f"{kind} {detail}" for kind, detail in result.violations]
    if not texts:
        return None
    texts += result.errors  # a racing recovery's clean-looking failure explains what it left
    bugs = KNOWN_BUGS
    reasons = {why for needle, why in bugs if any(needle in t for t in texts)}
    if not reasons:
        return None
    # journal_left, part_left and render_lost follow from a failed download; anything
    # else is new.
    explained = all(
        any(needle in t for needle, _ in bugs) or t.startswith(_FOLLOW_ON) for t in texts
    )
    return "; ".join(sorted(reasons)) if explained else None
