"""Per-request overhead of the SDK next to raw aiohttp (and openai-python, if installed).

Runs a minimal loopback server in a separate process answering
``GET /api/credits/balance/simple``, then measures, in one run:
sequential and 50-concurrent requests/s of ``nemo.credits.balance()``, raw
aiohttp doing the same GET + ``json()``, and openai-python's client doing the
same GET; then ``import nemo_sdk`` time next to ``import aiohttp, pydantic, tenacity``.

    python benchmarks/overhead.py [--requests 3000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

BODY = json.dumps(
    {"code": 0, "message": "success", "data": {"available": 100, "frozen": 0, "total": 100}}
).encode()
PATH = "/api/credits/balance/simple"


def _serve(port_queue: multiprocessing.Queue[int]) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get(PATH, handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port_queue.put(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        await asyncio.Event().wait()

    asyncio.run(main())


async def _rate(call: Callable[[], Awaitable[object]], n: int, concurrency: int) -> float:
    for _ in range(50):  # warm the pool
        await call()
    started = time.perf_counter()
    if concurrency == 1:
        for _ in range(n):
            await call()
    else:
        per_worker = n // concurrency

        async def worker() -> None:
            for _ in range(per_worker):
                await call()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        n = per_worker * concurrency
    return n / (time.perf_counter() - started)


async def _measure(url: str, n: int, repeats: int) -> dict[str, dict[int, float]]:
    from nemo_sdk import NemoClient

    results: dict[str, dict[int, float]] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:

        async def raw() -> object:
            async with http.get(url + PATH, headers={"Authorization": "Bearer x"}) as resp:
                return await resp.json()

        async with NemoClient(base_url=url, token="nmv_usr_bench", client_id="bench") as nemo:
            contenders: dict[str, Callable[[], Awaitable[object]]] = {
                "raw aiohttp": raw,
                "nemo_sdk": nemo.credits.balance,
            }
            openai_client = None
            try:
                import openai

                openai_client = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0)

                async def via_openai() -> object:
                    assert openai_client is not None
                    return await openai_client.get(PATH, cast_to=object)

                contenders["openai-python"] = via_openai
            except ImportError:
                pass
            for concurrency in (1, 50):
                for name, call in contenders.items():
                    best = max([await _rate(call, n, concurrency) for _ in range(repeats)])
                    results.setdefault(name, {})[concurrency] = best
            if openai_client is not None:
                await openai_client.close()
    return results


def _import_time(statement: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", f"import time; t=time.perf_counter(); {statement}; "
             "print(time.perf_counter()-t)"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        times.append(float(out.stdout.strip()))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{queue.get(timeout=10)}"
        results = asyncio.run(_measure(url, args.requests, args.repeats))
    finally:
        server.terminate()

    raw = results["raw aiohttp"]
    print(f"\nrequests/s, best of {args.repeats} x {args.requests} GETs (higher is better)")
    print(f"{'client':<16}{'sequential':>12}{'50-concurrent':>15}{'raw/client seq':>16}"
          f"{'raw/client 50':>15}")  # fmt: skip
    for name, by_c in results.items():
        print(f"{name:<16}{by_c[1]:>12,.0f}{by_c[50]:>15,.0f}"
              f"{raw[1] / by_c[1]:>15.2f}x{raw[50] / by_c[50]:>14.2f}x")  # fmt: skip

    _import_time("import nemo_sdk", 1)  # compile bytecode once
    base = _import_time("import aiohttp, pydantic, tenacity", 9)
    ours = _import_time("import nemo_sdk", 9)
    print("\nimport time, median of 9 fresh interpreters (lower is better)")
    print(f"{'import aiohttp, pydantic, tenacity':<36}{base * 1e3:>8.1f} ms")
    print(f"{'import nemo_sdk':<36}{ours * 1e3:>8.1f} ms  ({ours / base:.2f}x)")
    print(f"emulator/CLI imported by `import nemo_sdk`: "
          f"{_leaks_heavy_modules()}")  # fmt: skip


def _leaks_heavy_modules() -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, nemo_sdk; print(sorted(m for m in sys.modules "
         "if m.startswith(('nemo_sdk.emulator', 'nemo_sdk.cli.', 'av', 'numpy', 'PIL', 'click', "
         "'rich'))))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip() or "[]"


if __name__ == "__main__":
    main()
