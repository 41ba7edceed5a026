"""Download and upload throughput of the SDK next to raw aiohttp and curl, in one run.

The emulator runs in its own process on loopback and serves one large file
as a finished render (the CDN origin uses sendfile). Each client measurement
runs in a fresh Python process, so its peak RSS growth (resident size
sampled every 2 ms during the transfer, minus the size before it) is its
own. Every case is repeated and the median is reported.

Downloads: ``nemo.renders.download`` (temp file, fsync, rename), raw aiohttp
``iter_chunked(1 MiB)`` into a file (with and without fsync) and into
/dev/null, and ``curl`` into a file and into /dev/null. Uploads:
``nemo.uploads.upload`` and raw aiohttp ``FormData``, both to the emulator's
streaming multipart route (which also hashes and probes the file). One more
row runs the SDK's file writer alone (write, writeback, fsync) on the same
number of bytes from memory, with no network: what the disk allows a download
that must be durable, the ceiling of the SDK's row.

Which baseline: the SDK must leave a durable file (partial file, fsync,
rename), so the like-for-like baseline is raw aiohttp writing the file *and*
fsyncing it. Raw aiohttp and curl without fsync only fill the page cache: they
are shown, and checked, too, but when the disk is slower than the page cache no
durable download can match them, and the disk row says by how much.

    python benchmarks/transfer.py [--size-mb 500] [--repeats 3] [--dir /tmp]
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
from pathlib import Path
from typing import Any

MiB = 1024 * 1024


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
            sink = "/dev/null" if case.endswith("null") else out
            async with http.get(env["cdn"]) as resp:
                with open(sink, "wb") as fh:  # noqa: ASYNC230 - the baseline writes like the SDK
                    async for chunk in resp.content.iter_chunked(MiB):
                        fh.write(chunk)
                    if case.endswith("fsync"):
                        fh.flush()
                        os.fsync(fh.fileno())
        elif case == "disk-writer":
            from nemo_sdk._download import _Writer

            block = os.urandom(MiB)
            writer = _Writer(out, "wb")
            for start in range(0, env_size(env), MiB):
                writer.write(block[: min(MiB, env_size(env) - start)])
            await writer.finish()
            writer.close()
        elif case == "sdk-upload":
            await nemo.uploads.upload(env["session"], media)
        elif case == "aiohttp-upload":
            form = aiohttp.FormData()
            with open(media, "rb") as fh:  # noqa: ASYNC230 - the baseline as a user writes it
                form.add_field("files", fh, filename=media.name, content_type="video/mp4")
                async with http.post(upload_url, data=form, headers=auth) as resp:
                    doc = await resp.json()
                    assert doc["code"] == 0, doc
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


def env_size(env: dict[str, str]) -> int:
    return int(env["size"])


CASES = [
    ("download", "sdk-download", "SDK renders.download (file, fsync, rename)"),
    ("download", "aiohttp-download", "raw aiohttp iter_chunked(1 MiB) -> file"),
    ("download", "aiohttp-download-fsync", "raw aiohttp iter_chunked(1 MiB) -> file + fsync"),
    ("download", "aiohttp-download-null", "raw aiohttp iter_chunked(1 MiB) -> /dev/null"),
    ("download", "curl-download", "curl -> file"),
    ("download", "curl-download-null", "curl -> /dev/null"),
    ("disk", "disk-writer", "no network: the SDK's file writer, from memory"),
    ("upload", "sdk-upload", "SDK uploads.upload (streamed multipart)"),
    ("upload", "aiohttp-upload", "raw aiohttp FormData(open file)"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir())
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
    media = work / "big.mp4"
    _make_media(media, size)
    queue: multiprocessing.Queue[dict[str, str]] = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=_serve, args=(str(work / "emu"), str(media), queue), daemon=True
    )
    server.start()
    try:
        env = queue.get(timeout=60)
        env["size"] = str(size)
        results: dict[str, list[dict[str, float]]] = {case: [] for _, case, _ in CASES}
        for _ in range(args.repeats):  # interleaved, so drift hits every case alike
            for _, case, _ in CASES:
                results[case].append(_run_case(case, env, media, work / "out.mp4"))
                shutil.rmtree(work / "emu" / "uploads", ignore_errors=True)
        _report(results, size, args)
    finally:
        server.terminate()
        server.join()
        shutil.rmtree(work, ignore_errors=True)


def _report(results: dict[str, list[dict[str, float]]], size: int, args: Any) -> None:
    rate: dict[str, float] = {}
    print(f"\n{args.size_mb} MB file on loopback, median of {args.repeats} runs\n")
    print(f"| {'direction':9} | {'client':50} | {'MB/s':>7} | {'peak RSS growth':>15} |")
    print(f"|{'-' * 11}|{'-' * 52}|{'-' * 9}|{'-' * 17}|")
    for direction, case, label in CASES:
        seconds = statistics.median(r["seconds"] for r in results[case])
        growth = max(r["rss_growth_mb"] for r in results[case])
        rate[case] = size / seconds / 1e6
        rss = "-" if growth != growth else f"{growth:.1f} MB"
        print(f"| {direction:9} | {label:50} | {rate[case]:7.0f} | {rss:>15} |")
    print()
    checks = [
        ("sdk-download", "aiohttp-download-fsync", 0.9,
         "SDK download / raw aiohttp -> file + fsync (like-for-like baseline)"),
        ("sdk-download", "aiohttp-download", 0.9, "SDK download / raw aiohttp -> file, no fsync"),
        ("sdk-download", "curl-download", 0.75, "SDK download / curl -> file, no fsync"),
        ("sdk-download", "disk-writer", None, "SDK download / its file writer alone (the ceiling)"),
        ("sdk-upload", "aiohttp-upload", 0.9, "SDK upload / raw aiohttp FormData"),
    ]  # fmt: skip
    for a, b, target, label in checks:
        ratio = rate[a] / rate[b]
        verdict = ""
        if target is not None:
            verdict = f"  (target >= {target}: {'met' if ratio >= target else 'NOT met'})"
        print(f"{label:<68} {ratio:5.2f}{verdict}")
    for case in ("sdk-download", "sdk-upload"):
        growth = max(r["rss_growth_mb"] for r in results[case])
        verdict = "met" if growth < 64 else "NOT met"
        print(f"{case} peak RSS growth {growth:.1f} MB  (target < 64 MB: {verdict})")


if __name__ == "__main__":
    main()
