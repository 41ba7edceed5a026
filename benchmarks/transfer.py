"""Download and upload throughput of the SDK next to raw aiohttp and curl, in one run.

The emulator runs in its own process on loopback and serves one large file
as a finished render (the CDN origin uses sendfile). Each client measurement
runs in a fresh Python process, so its peak RSS growth (resident size
sampled every 2 ms during the transfer, minus the size before it) is its
own. Every case is repeated, interleaved with the others, and the median is
reported. The order is reversed every other repeat, one untimed download warms
the server first, and dirty pages are flushed (``sync``) between cases so that
one case's writeback does not land in the next one's time.

Downloads go to two destinations, each with its own table (``--dest``):

- tmpfs: a directory in /dev/shm, in RAM. fsync and rename cost nothing
  there, so this table measures the code path: the SDK against raw aiohttp
  and curl writing a file, and against both writing to /dev/null.
- disk: a directory under ``--dir`` on the working disk. The SDK must leave a
  durable file (partial file, fsync, rename), so the like-for-like baseline is
  raw aiohttp writing the file, fsyncing it and renaming it into place. Raw
  aiohttp and curl without fsync only fill the page cache; they are shown and
  checked too, but when the disk is slower than the page cache no durable
  download can match them.

Rows on each destination: ``nemo.renders.download`` (partial file, fsync,
rename), raw aiohttp ``iter_chunked(1 MiB)`` into a file (with and without
fsync + rename), ``curl`` into a file, and the SDK's file writer alone (write,
writeback, fsync) on the same number of bytes from memory, with no network:
the ceiling of the SDK's row. Uploads (``nemo.uploads.upload`` and raw aiohttp
``FormData``, both to the emulator's streaming multipart route, which also
hashes and probes the file) do not depend on the destination.

Each row shows the SDK's rate on the same destination divided by the row's
rate, and the issue's target for that ratio.

    python benchmarks/transfer.py [--size-mb 500] [--repeats 3] [--dir /tmp]
                                  [--dest {tmpfs,disk,both}]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
SHM = Path("/dev/shm")
# Room kept free on a destination besides the downloaded file itself.
MARGIN = 64 * MiB


# ---------------------------------------------------------------- the server


def _make_media(path: Path, size: int) -> None:
    """A valid MP4 of ``size`` bytes: a short clip followed by a ``free`` box of filler."""
    from nemo_sdk.emulator.media import generate_clip

    clip = path.with_suffix(".clip.mp4")
    generate_clip("benchmark", clip, duration=1.0, width=160, height=90, fps=12)
    head = clip.read_bytes()
    clip.unlink()
    filler = size - len(head) - 8
    block = os.urandom(MiB)
    with open(path, "wb") as fh:
        fh.write(head)
        fh.write((filler + 8).to_bytes(4, "big") + b"free")  # one box: the demuxer skips it
        written = 0
        while written < filler:
            n = min(MiB, filler - written)
            fh.write(block[:n])
            written += n


def _serve(data_dir: str, media: str, queue: multiprocessing.Queue[dict[str, str]]) -> None:
    from nemo_sdk.emulator import Emulator
    from nemo_sdk.emulator.routes_render import RenderRecord

    async def main() -> None:
        async with Emulator(data_dir=data_dir) as emu:
            token = emu.store.issue_token(scopes=("*",))
            session = emu.store.create_session(token.user_id, "en")
            folder = emu.data_dir / "renders"
            folder.mkdir(parents=True, exist_ok=True)
            rid = "render_benchmark"
            target = folder / f"{rid}.mp4"
            os.link(media, target)
            emu.renders[rid] = RenderRecord(
                rid, token.user_id, session.id, {"t": []}, status="completed",
                progress=100.0, path=target, output_url=f"{emu.cdn_url}/renders/{target.name}",
            )  # fmt: skip
            queue.put(
                {
                    "url": emu.url,
                    "token": token.value,
                    "session": session.id,
                    "render": rid,
                    "cdn": emu.renders[rid].output_url or "",
                }
            )
            await asyncio.Event().wait()

    asyncio.run(main())


# ---------------------------------------------------------------- the clients


def _rss_mb() -> float:
    # Current resident size; ru_maxrss would hide growth under the import-time peak.
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / MiB


class _PeakRss:
    """Sample the resident size every few ms in a thread; ``peak`` is the highest seen."""

    def __init__(self) -> None:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _rss_mb())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def _raw_download(http: Any, url: str, sink: str, durable: bool) -> None:
    """Raw aiohttp as a user writes it; ``durable`` adds what the SDK pays: fsync, rename."""
    path = Path(sink)
    part = path.with_name(f".{path.name}.part") if durable else path
    async with http.get(url) as resp:
        with open(part, "wb") as fh:  # noqa: ASYNC230 - the baseline writes like the SDK
            async for chunk in resp.content.iter_chunked(MiB):
                fh.write(chunk)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
    if durable:
        os.replace(part, path)
        _fsync_dir(path.parent)


async def _write_from_memory(out: Path, size: int) -> None:
    """The SDK's file writer alone: the same bytes from memory, no network."""
    from nemo_sdk._files.download import _Writer

    block = os.urandom(MiB)
    writer = _Writer(out, "wb")
    for start in range(0, size, MiB):
        writer.write(block[: min(MiB, size - start)])
    await writer.finish()
    writer.close()


async def _raw_upload(http: Any, url: str, media: Path, headers: dict[str, str]) -> None:
    import aiohttp

    form = aiohttp.FormData()
    with open(media, "rb") as fh:  # noqa: ASYNC230 - the baseline as a user writes it
        form.add_field("files", fh, filename=media.name, content_type="video/mp4")
        async with http.post(url, data=form, headers=headers) as resp:
            doc = await resp.json()
            assert doc["code"] == 0, doc


async def _case(case: str, env: dict[str, str], media: Path, out: Path) -> None:
    import aiohttp

    from nemo_sdk import NemoClient

    attribution = {"X-Skill-Source": "bench", "X-Skill-Version": "1", "X-Skill-Platform": "x"}
    auth = {"Authorization": f"Bearer {env['token']}", **attribution}
    upload_url = f"{env['url']}/api/upload-video/nemo_agent/me/{env['session']}"
    async with (
        aiohttp.ClientSession() as http,
        NemoClient(base_url=env["url"], token=env["token"], journal_path=False) as nemo,
    ):
        await nemo.credits.balance()  # warm: token, pool, imports
        async with http.get(f"{env['url']}/api/credits/balance/simple", headers=auth) as r:
            await r.read()
        before = _rss_mb()
        sampler = _PeakRss()
        started = time.perf_counter()
        if case == "sdk-download":
            await nemo.renders.download(env["render"], out)
        elif case.startswith("aiohttp-download"):
            sink = "/dev/null" if case.endswith("null") else str(out)
            await _raw_download(http, env["cdn"], sink, durable=case.endswith("durable"))
        elif case == "disk-writer":
            await _write_from_memory(out, int(env["size"]))
        elif case == "sdk-upload":
            await nemo.uploads.upload(env["session"], media)
        elif case == "aiohttp-upload":
            await _raw_upload(http, upload_url, media, auth)
        else:
            raise SystemExit(f"unknown case {case}")
        elapsed = time.perf_counter() - started
        peak = sampler.stop()
    print(json.dumps({"seconds": elapsed, "rss_growth_mb": peak - before}))


def _run_case(case: str, env: dict[str, str], media: Path, out: Path) -> dict[str, float]:
    out.unlink(missing_ok=True)
    if case.startswith("curl"):
        sink = "/dev/null" if case.endswith("null") else str(out)
        started = time.perf_counter()
        subprocess.run(["curl", "-sS", "-o", sink, env["cdn"]], check=True)
        return {"seconds": time.perf_counter() - started, "rss_growth_mb": float("nan")}
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", case, "--env", json.dumps(env),
         "--media", str(media), "--out", str(out)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- the destinations


@dataclass(frozen=True)
class Dest:
    """Where the downloads land: ``name`` is ``tmpfs`` or ``disk``."""

    name: str
    path: Path
    title: str


def _mount(path: Path) -> tuple[str, str]:
    """(filesystem type, device) of the mount holding ``path``, from /proc/mounts."""
    best, found = "", ("?", "?")
    real = str(path.resolve())
    try:
        with open("/proc/mounts") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return found
    for line in lines:
        device, point, kind = line.split()[:3]
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, found = point, (kind, device)
    return found


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _lacks_room(path: Path, need: int) -> str | None:
    """Why ``path`` cannot take ``need`` bytes, or ``None`` when it can."""
    free = shutil.disk_usage(path).free
    memory = _mem_available() if _mount(path)[0] == "tmpfs" else None
    if memory is not None:
        free = min(free, memory)  # a tmpfs's size may promise more than the RAM left
    if free < need:
        return f"{free / 1e6:.0f} MB free in {path}, {need / 1e6:.0f} MB needed"
    return None


def _tmpfs_dest(size: int) -> Dest | None:
    if not SHM.is_dir():
        print(f"skipping tmpfs: there is no {SHM} on this system")
        return None
    if _mount(SHM)[0] != "tmpfs":
        print(f"skipping tmpfs: {SHM} is not a tmpfs")
        return None
    why = _lacks_room(SHM, size + MARGIN)
    if why is not None:
        print(f"skipping tmpfs: {why}")
        return None
    path = Path(tempfile.mkdtemp(prefix="nemo-bench-", dir=SHM))
    title = f"tmpfs, {path} (RAM; fsync is free, so this measures the code path)"
    return Dest("tmpfs", path, title)


def _disk_dest(work: Path, size: int) -> Dest | None:
    path = work / "out"
    path.mkdir()
    why = _lacks_room(path, size + MARGIN)
    if why is not None:
        print(f"skipping disk: {why}")
        return None
    kind, device = _mount(path)
    note = "; WARNING: not a disk, pass --dir on one" if kind == "tmpfs" else ""
    title = f"disk, {path} ({kind} on {device}; fsync waits for the disk{note})"
    return Dest("disk", path, title)


def _destinations(choice: str, work: Path, size: int) -> list[Dest]:
    found = [
        _tmpfs_dest(size) if choice in ("tmpfs", "both") else None,
        _disk_dest(work, size) if choice in ("disk", "both") else None,
    ]
    return [dest for dest in found if dest is not None]


# ---------------------------------------------------------------- the plan

# Written on each destination; the SDK's row is the first.
FILE_CASES = [
    ("sdk-download", "SDK renders.download (part file, fsync, rename)"),
    ("aiohttp-download-durable", "raw aiohttp -> file + fsync + rename"),
    ("aiohttp-download", "raw aiohttp -> file"),
    ("curl-download", "curl -> file"),
    ("disk-writer", "SDK file writer alone, from memory (ceiling)"),
]
# No file: shown with the first destination's table (tmpfs when measured).
NULL_CASES = [
    ("aiohttp-download-null", "raw aiohttp -> /dev/null"),
    ("curl-download-null", "curl -> /dev/null"),
]
UPLOAD_CASES = [
    ("sdk-upload", "SDK uploads.upload (streamed multipart)"),
    ("aiohttp-upload", "raw aiohttp FormData(open file)"),
]
# The row doing the SDK's work, marked in the tables.
LIKE_FOR_LIKE = "aiohttp-download-durable"
# The issue's targets: SDK rate / row rate, same destination.
TARGETS = {
    "aiohttp-download-durable": 0.9,
    "aiohttp-download": 0.9,
    "curl-download": 0.75,
    "aiohttp-upload": 0.9,
}
LEGEND = """\
SDK/row: the SDK's rate (same destination) over the row's rate; target: the issue's minimum.
raw aiohttp rows use iter_chunked(1 MiB); [like-for-like] marks the row that does the SDK's
work (write, fsync, rename). On tmpfs fsync and rename are free, so every file row is a fair
baseline and the SDK should meet every target there. On disk the rows without fsync only fill
the page cache (the disk gets the data after their clock stops): checked, but only the
like-for-like row says whether the SDK itself is slow. /dev/null rows write no file (info).
The ceiling row is the SDK's writer with no network: a download cannot beat it."""

Key = tuple[str, str]  # (case, destination name; "" when the case writes no file)


def _plan(dests: list[Dest], work: Path) -> list[tuple[Key, Path]]:
    """Every (case, destination) to measure, with the file it writes."""
    plan = [((case, d.name), d.path / "out.mp4") for d in dests for case, _ in FILE_CASES]
    return plan + [((case, ""), work / "out.mp4") for case, _ in NULL_CASES + UPLOAD_CASES]


def _settle(work: Path, out: Path) -> None:
    """Remove what a case left and flush dirty pages, so the next case starts clean."""
    out.unlink(missing_ok=True)
    shutil.rmtree(work / "emu" / "uploads", ignore_errors=True)
    os.sync()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=500, help="file size, in MB (1e6 bytes)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each case (median)")
    parser.add_argument(
        "--dir", default=tempfile.gettempdir(),
        help="working directory on the disk: the served file, the emulator, the disk downloads",
    )  # fmt: skip
    parser.add_argument(
        "--dest", choices=("tmpfs", "disk", "both"), default="both",
        help=f"where downloads land: {SHM} (RAM), --dir (disk) or both (default)",
    )  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--env", help=argparse.SUPPRESS)
    parser.add_argument("--media", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(_case(args.worker, json.loads(args.env), Path(args.media), Path(args.out)))
        return

    work = Path(tempfile.mkdtemp(prefix="nemo-bench-", dir=args.dir))
    size = args.size_mb * 1000 * 1000
    dests: list[Dest] = []
    server: multiprocessing.Process | None = None
    try:
        media = work / "big.mp4"
        _make_media(media, size)
        dests = _destinations(args.dest, work, size)
        queue: multiprocessing.Queue[dict[str, str]] = multiprocessing.Queue()
        server = multiprocessing.Process(
            target=_serve, args=(str(work / "emu"), str(media), queue), daemon=True
        )
        server.start()
        env = queue.get(timeout=60)
        env["size"] = str(size)
        plan = _plan(dests, work)
        results: dict[Key, list[dict[str, float]]] = {key: [] for key, _ in plan}
        _run_case("curl-download-null", env, media, work / "out.mp4")  # warm the server
        load = os.getloadavg()[0]
        for i in range(args.repeats):
            # Interleaved, and every other repeat in reverse (ABBA): drift hits every case
            # alike and no case always follows the same one.
            for key, out in plan if i % 2 == 0 else plan[::-1]:
                results[key].append(_run_case(key[0], env, media, out))
                _settle(work, out)
        _report(results, size, args, dests, (load, os.getloadavg()[0]))
    finally:
        if server is not None:
            server.terminate()
            server.join()
        for dest in dests:
            shutil.rmtree(dest.path, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- the report


def _rates(results: dict[Key, list[dict[str, float]]], size: int) -> dict[Key, float]:
    return {key: size / statistics.median(r["seconds"] for r in runs) / 1e6
            for key, runs in results.items()}  # fmt: skip


def _growth(runs: list[dict[str, float]]) -> float:
    return max(r["rss_growth_mb"] for r in runs)


def _versus(sdk_rate: float, key: Key, row_rate: float, label: str, misses: list[str]) -> str:
    """The target cell of a row; a missed target is also added to ``misses``."""
    target = TARGETS.get(key[0])
    if target is None:
        return "(info)"
    ratio = sdk_rate / row_rate
    if ratio < target:
        misses.append(f"{key[1] or 'upload'}: SDK/{label} = {ratio:.2f} < {target}")
    return f">= {target}: {'met' if ratio >= target else 'NOT met'}"


def _table(
    title: str,
    rows: list[tuple[Key, str]],
    sdk: Key | None,
    results: dict[Key, list[dict[str, float]]],
    rate: dict[Key, float],
    misses: list[str],
) -> None:
    """One table; the first row is the SDK's, the others carry SDK/row and its target."""
    print(f"\n{title}\n")
    print(f"| {'client':54} | {'MB/s':>6} | {'peak RSS growth':>15} | {'SDK/row':>7} | "
          f"{'target':16} |")  # fmt: skip
    print(f"|{'-' * 56}|{'-' * 8}|{'-' * 17}|{'-' * 9}|{'-' * 18}|")
    for key, label in rows:
        growth = _growth(results[key])
        rss = "-" if growth != growth else f"{growth:.1f} MB"
        ratio, verdict = "", ""
        if sdk is not None and key != sdk:
            ratio = f"{rate[sdk] / rate[key]:.2f}"
            verdict = _versus(rate[sdk], key, rate[key], label, misses)
        marked = f"{label}  [like-for-like]" if key[0] == LIKE_FOR_LIKE else label
        print(f"| {marked:54} | {rate[key]:6.0f} | {rss:>15} | {ratio:>7} | {verdict:16} |")


def _report(
    results: dict[Key, list[dict[str, float]]],
    size: int,
    args: Any,
    dests: list[Dest],
    load: tuple[float, float],
) -> None:
    rate = _rates(results, size)
    misses: list[str] = []
    print(f"\n{args.size_mb} MB file on loopback, median of {args.repeats} runs; "
          f"{os.cpu_count()} CPUs, 1-min load average {load[0]:.1f} before, {load[1]:.1f} after "
          "(other work on the machine makes every row noisy)")  # fmt: skip
    nulls = [((case, ""), label) for case, label in NULL_CASES]
    for i, dest in enumerate(dests):
        rows = [((case, dest.name), label) for case, label in FILE_CASES]
        rows += nulls if i == 0 else []
        _table(f"Download to {dest.title}", rows, ("sdk-download", dest.name), results, rate,
               misses)  # fmt: skip
    if not dests:
        print("\nno destination for the downloads; only /dev/null and uploads were measured")
        _table("Download to /dev/null", nulls, None, results, rate, misses)
    uploads = [((case, ""), label) for case, label in UPLOAD_CASES]
    _table("Upload (the emulator stores it under --dir)", uploads, ("sdk-upload", ""), results,
           rate, misses)  # fmt: skip
    print(f"\n{LEGEND}\n")
    print("targets: all met" if not misses else "targets NOT met:\n  " + "\n  ".join(misses))
    sdk_rows = [(d.name, ("sdk-download", d.name)) for d in dests] + [("", ("sdk-upload", ""))]
    for where, key in sdk_rows:
        growth = _growth(results[key])
        verdict = "met" if growth < 64 else "NOT met"
        print(f"{key[0]}{' to ' + where if where else ''} peak RSS growth {growth:.1f} MB  "
              f"(target < 64 MB: {verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
