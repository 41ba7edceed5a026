"""Load: N concurrent ``generate_and_export`` flows against one emulator process.

The emulator runs in its own process (``python -m nemo_sdk.emulator`` with fast
render knobs), so the figures of this process are the client's alone: one
``NemoClient`` runs every flow at once (session, chat generation, state,
export, poll, download), and the script reports completed and failed flows,
p50/p95 latency, peak RSS, and open file descriptors before and after.

Targets: 200 flows, zero failures, peak RSS under 300 MB, descriptors back to
the baseline once the client is closed. The figures are written into
``docs/reliability.md`` between its ``load`` markers (``--no-doc`` to skip).

    python benchmarks/load.py                 # 50 flows
    python benchmarks/load.py --flows 200
    python benchmarks/load.py --temporal --flows 200   # on Temporal, two workers
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nemo_sdk import NemoClient, NemoError, RenderSettings  # noqa: E402 - after the path set-up

DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- load:begin -->", "<!-- load:end -->"
TARGET_RSS_MB = 300.0
FAST_KNOBS = {
    "render_seconds": "0",
    "clip_seconds": "0.2",
    "clip_width": "64",
    "clip_height": "36",
    "clip_fps": "6",
    "render_slots": "4",
    "heartbeat_every": "0.5",
    "no_text_rate": "0.3",
}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def start_emulator(flows: int) -> tuple[subprocess.Popen[str], str]:
    """The emulator in its own process; its API URL once it listens."""
    command = [
        sys.executable, "-m", "nemo_sdk.emulator", "--port", "0",
        "--starting-credits", str(200 * flows + 1000), "--tokens-per-ip", "1000",
    ]  # fmt: skip
    for name, value in FAST_KNOBS.items():
        command += ["--knob", f"{name}={value}"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "API " not in line:
        proc.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return proc, line.split("API ", 1)[1].split()[0]


async def run_flows(url: str, flows: int, folder: Path, poll_interval: float) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    peak = rss_mb()

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, rss_mb())
            await asyncio.sleep(0.05)

    async with NemoClient(
        base_url=url,
        client_id_path=folder / "client_id",
        journal_path=folder / "journal.sqlite3",
        render_settings=RenderSettings(poll_interval=poll_interval),
    ) as nemo:

        async def flow(i: int) -> None:
            started = time.perf_counter()
            try:
                result = await nemo.generate_and_export(
                    f"a quiet harbour at dawn, take {i}",
                    out=folder / f"flow_{i}.mp4",
                    poll_interval=poll_interval,
                )
                assert result.path.stat().st_size > 0
            except (NemoError, AssertionError, OSError) as exc:
                failures.append(f"flow {i}: {type(exc).__name__}: {exc}"[:300])
                return
            latencies.append(time.perf_counter() - started)

        sampler = asyncio.create_task(sample())
        started = time.perf_counter()
        await asyncio.gather(*(flow(i) for i in range(flows)))
        wall = time.perf_counter() - started
        sampler.cancel()
        pending = len(await nemo.renders.pending())
    return {
        "latencies": latencies,
        "failures": failures,
        "wall": wall,
        "peak_sampled": peak,
        "journal_left": pending,
    }


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(flows: int, figures: dict[str, Any], fds: tuple[int, int], rss: float) -> str:
    lat = figures["latencies"]
    done, failed = len(lat), len(figures["failures"])
    before, after = fds
    met = failed == 0 and rss < TARGET_RSS_MB and after <= before
    lines = [
        BEGIN,
        "## Load",
        "",
        f"`python benchmarks/load.py --flows {flows}`: {flows} concurrent `generate_and_export`",
        "flows (session, chat generation, state, export, poll, download) on one `NemoClient`,",
        "against one emulator process on loopback with fast render knobs; the figures are",
        "the client process's alone.",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| flows completed | {done} of {flows} | all |",
        f"| flows failed | {failed} | 0 |",
        f"| latency p50 | {quantile(lat, 0.5):.2f} s | |",
        f"| latency p95 | {quantile(lat, 0.95):.2f} s | |",
        f"| wall time | {figures['wall']:.1f} s | |",
        f"| peak RSS (client) | {rss:.0f} MB | < {TARGET_RSS_MB:.0f} MB |",
        f"| open fds before / after | {before} / {after} | back to baseline |",
        f"| renders left in the journal | {figures['journal_left']} | 0 |",
        "",
        f"Targets {'met' if met else '**not met**'}. Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs.",
    ]
    if figures["failures"]:
        lines += ["", "Failures (first 5):", ""]
        lines += [f"- {f}" for f in figures["failures"][:5]]
    lines.append(END)
    return "\n".join(lines)


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else ""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    else:
        text = text[:start] + section + text[end + len(END) :]
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=50)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/reliability.md")
    parser.add_argument(
        "--temporal", action="store_true", help="run the flows as Temporal jobs on two workers"
    )
    args = parser.parse_args()
    if args.temporal:
        import load_temporal  # benchmarks/ is the script's directory: on sys.path

        sys.exit(load_temporal.main(args.flows))
    proc, url = start_emulator(args.flows)
    try:
        with tempfile.TemporaryDirectory(prefix="nemo-load-") as tmp:
            gc.collect()
            before = open_fds()
            figures = asyncio.run(run_flows(url, args.flows, Path(tmp), args.poll_interval))
            gc.collect()
            after = open_fds()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    rss = max(peak_rss_mb(), figures["peak_sampled"])
    section = report(args.flows, figures, (before, after), rss)
    print(section.replace(BEGIN, "").replace(END, "").strip())
    if not args.no_doc:
        write_doc(section)
        print(f"\nwrote the load figures into {DOC}")
    ok = not figures["failures"] and rss < TARGET_RSS_MB and after <= before
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
