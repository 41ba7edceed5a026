"""Server-Sent Events decoding: nemo_sdk against its peers, on the same bytes, in one run.

Usage: ``.venv/bin/python benchmarks/sse_decode.py [--events N] [--repeats R]``

The stream mixes ADK text deltas, functionCall and functionResponse events,
``: keep-alive`` comments and empty ``data:`` lines, cut into 16 KiB chunks. Each row
decodes it whole (every row parses every JSON event) and reports the best of R runs.
Peers (``pip install -e ".[bench]"``) that are not importable print ``n/a``.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import gc
import json
import random
import string
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nemo_sdk.events import parse_event
from nemo_sdk.sse import SSEDecoder

CHUNK = 16 * 1024


def make_stream(n_events: int, seed: int = 7) -> bytes:
    """A ``/run_sse``-like body of ``n_events`` blocks (keep-alives included)."""
    rng = random.Random(seed)
    words = ["clip", "scene", "the", "video", "add", "music", "trim", "fade", "é", "字幕", "🎬"]
    invocation = "e-" + "".join(rng.choices(string.hexdigits, k=32))
    blocks: list[bytes] = []
    for i in range(n_events):
        roll = rng.random()
        if roll < 0.05:
            blocks.append(b": keep-alive\n\n")
            continue
        if roll < 0.08:
            blocks.append(b"data: \n\n")
            continue
        base = {
            "author": "nemo_agent",
            "invocationId": invocation,
            "id": "".join(rng.choices(string.ascii_letters, k=8)),
            "timestamp": 1732467890.0 + i,
            "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}},
        }
        if roll < 0.88:
            text = " ".join(rng.choices(words, k=rng.randint(3, 20)))
            event = {"content": {"parts": [{"text": text}], "role": "model"}, "partial": True}
        elif roll < 0.94:
            call = {"id": f"call_{i}", "name": "edit_timeline", "args": {"op": "trim", "at": i}}
            event = {"content": {"parts": [{"functionCall": call}], "role": "model"}}
        else:
            answer = {"status": "ok", "draft": {"tracks": [{"segments": [1, 2, 3]}]}}
            response = {"id": f"call_{i}", "name": "edit_timeline", "response": answer}
            event = {"content": {"parts": [{"functionResponse": response}], "role": "user"}}
        blocks.append(b"data: " + json.dumps({**event, **base}).encode() + b"\n\n")
    return b"".join(blocks)


def chunked(body: bytes, size: int = CHUNK) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def run_floor(chunks: list[bytes]) -> int:
    """The least any decoder can do: split on blank lines, json.loads each data block."""
    n = 0
    buf = b""
    loads = json.loads
    for chunk in chunks:
        parts = (buf + chunk).split(b"\n\n")
        buf = parts.pop()
        for part in parts:
            if part[:6] == b"data: " and len(part) > 6:
                loads(part[6:].decode())
                n += 1
    return n


def make_openai() -> Callable[[list[bytes]], int] | None:
    try:
        from openai._streaming import SSEDecoder as OpenAIDecoder
    except ImportError:
        return None

    def run(chunks: list[bytes]) -> int:
        # What openai's Stream does: decoder.iter_bytes(response.iter_bytes()), sse.json().
        n = 0
        for sse in OpenAIDecoder().iter_bytes(iter(chunks)):
            if sse.data:
                sse.json()
                n += 1
        return n

    return run


def make_httpx_sse() -> Callable[[list[bytes]], int] | None:
    try:
        from httpx_sse._decoders import SSEDecoder as HttpxDecoder
        from httpx_sse._decoders import SSELineDecoder
    except ImportError:
        return None

    def run(chunks: list[bytes]) -> int:
        # What EventSource.iter_sse does over httpx's iter_text().
        n = 0
        text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        lines = SSELineDecoder()
        decoder = HttpxDecoder()

        def texts() -> Iterator[str]:
            for chunk in chunks:
                yield text_decoder.decode(chunk)

        for text in texts():
            for line in lines.decode(text):
                sse = decoder.decode(line.rstrip("\n"))
                if sse is not None and sse.data:
                    sse.json()
                    n += 1
        return n

    return run


def run_ours_json(chunks: list[bytes]) -> int:
    n = 0
    decoder = SSEDecoder()
    loads = json.loads
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            if sse.data:
                loads(sse.data)
                n += 1
    decoder.flush()
    return n


def run_ours_typed(chunks: list[bytes]) -> int:
    n = 0
    decoder = SSEDecoder()
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            n += len(parse_event(sse))
    decoder.flush()
    return n


class Loopback:
    """An aiohttp server on 127.0.0.1 that streams the chunks, read back with aiohttp."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self._start())

    async def _start(self) -> None:
        import aiohttp
        from aiohttp import web

        async def stream(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for chunk in self.chunks:
                await response.write(chunk)
            await response.write_eof()
            return response

        app = web.Application()
        app.router.add_post("/run_sse", stream)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/run_sse"
        self.session = aiohttp.ClientSession()

    async def _read(self) -> int:
        n = 0
        async with self.session.post(self.url) as resp:
            decoder = SSEDecoder()
            async for data in resp.content.iter_any():
                for sse in decoder.feed(data):
                    n += len(parse_event(sse))
            decoder.flush()
        return n

    def run(self, chunks: list[bytes]) -> int:
        return self.loop.run_until_complete(self._read())

    def close(self) -> None:
        self.loop.run_until_complete(self.session.close())
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    body = make_stream(args.events)
    chunks = chunked(body)
    megabytes = len(body) / 1e6
    loopback = Loopback(chunks)
    runs: list[tuple[str, Callable[[list[bytes]], int] | None]] = [
        ("floor: split on blank lines + json.loads", run_floor),
        ("openai-python SSEDecoder + json", make_openai()),
        ("httpx-sse SSEDecoder + json", make_httpx_sse()),
        ("nemo_sdk SSEDecoder + json", run_ours_json),
        ("nemo_sdk SSEDecoder + parse_event", run_ours_typed),
        ("nemo_sdk e2e: aiohttp loopback + parse_event", loopback.run),
    ]
    # Every decoder must see the same events, or the comparison means nothing.
    expected = run_floor(chunks)
    typed = run_ours_typed(chunks)
    for name, run in runs:
        if run is not None:
            count = typed if "parse_event" in name else expected
            assert run(chunks) == count, f"{name} disagrees"

    # CPU time of this process (the loopback server included), best of interleaved
    # rounds: other work on the machine then slows every row alike.
    best: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, run in runs:
            if run is None:
                continue
            gc.collect()
            start = time.process_time()
            run(chunks)
            elapsed = time.process_time() - start
            best[name] = min(best.get(name, elapsed), elapsed)
    loopback.close()

    openai_time = best.get("openai-python SSEDecoder + json")
    print(
        f"{args.events:,} events, {megabytes:.1f} MB, {len(chunks):,} chunks of 16 KiB; "
        f"CPU time, best of {args.repeats} rounds; Python {sys.version.split()[0]}"
    )
    print(f"| {'decoder':<46} | {'events/s':>10} | {'MB/s':>7} | {'vs openai':>9} |")
    print(f"|{'-' * 48}|{'-' * 11}:|{'-' * 8}:|{'-' * 10}:|")
    for name, _ in runs:
        seconds = best.get(name)
        if seconds is None:
            print(f"| {name:<46} | {'n/a':>10} | {'n/a':>7} | {'n/a':>9} |")
            continue
        ratio = f"{openai_time / seconds:.2f}x" if openai_time else "n/a"
        rate = args.events / seconds
        print(f"| {name:<46} | {rate:>10,.0f} | {megabytes / seconds:>7.1f} | {ratio:>9} |")


if __name__ == "__main__":
    main()
