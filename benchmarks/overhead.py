"""Per-request overhead of the SDK next to raw aiohttp (and openai-python, if installed).

Runs a minimal loopback server in a separate process answering
``GET /api/credits/balance/simple``, then measures, in one run:
sequential and 50-concurrent requests/s of ``nemo.credits.balance()``, raw
aiohttp doing the same GET + ``json()`` (plain, and with the SDK's own
timeouts), and openai-python's client doing the same GET, with each client's
CPU time per request beside it; then ``import nemo_sdk`` time next to
``import aiohttp, pydantic, tenacity``. Both imports are lazy (``pydantic``
loads its model machinery, ``nemo_sdk`` its modules, on first use), so two
more rows show what a program pays once it uses them: ``from pydantic import
BaseModel`` and ``from nemo_sdk import NemoClient``; and a cold start (imports,
one client, one GET parsed into a model) shows what a program pays up to its
first result.

The target (SDK within 1.15x of raw aiohttp per request) is checked against
*plain* raw aiohttp: the session's default timeout only. The row "raw aiohttp
+ SDK timeouts" adds the SDK's connect and read-idle timeouts, which the SDK
keeps as features; it is shown so the cost of those features is visible.

Rounds are short, many and interleaved (every contender once per round, in a
rotating order), and each contender's best round is kept: a burst of noise on a
shared machine costs a contender a round, not its result.

    python benchmarks/overhead.py [--requests 2000] [--repeats 15] [--import-runs 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

BODY = json.dumps(
    {"code": 0, "message": "success", "data": {"available": 100, "frozen": 0, "total": 100}}
).encode()
PATH = "/api/credits/balance/simple"
RAW = "raw aiohttp"
RAW_TIMEOUTS = "raw aiohttp + SDK timeouts"
SDK = "nemo_sdk"
OPENAI = "openai-python"
TARGET = 1.15
IMPORT_TARGET = 1.2

Call = Callable[[], Awaitable[object]]
Score = tuple[float, float]  # requests/s, client CPU microseconds per request
Results = dict[str, dict[int, Score]]  # contender -> concurrency -> best score


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


async def _rate(call: Call, n: int, concurrency: int) -> Score:
    for _ in range(50):  # warm the pool
        await call()
    started, cpu = time.perf_counter(), time.process_time()
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
    return n / (time.perf_counter() - started), (time.process_time() - cpu) / n * 1e6


async def _best_interleaved(
    contenders: dict[str, tuple[Call, int]], concurrency: int, repeats: int
) -> dict[str, Score]:
    best = dict.fromkeys(contenders, (0.0, float("inf")))
    names = list(contenders)
    for round_ in range(repeats):
        shift = round_ % len(names)  # rotate so no contender always runs first or last
        for name in names[shift:] + names[:shift]:
            call, n = contenders[name]
            rate, cpu = await _rate(call, n, concurrency)
            best[name] = (max(best[name][0], rate), min(best[name][1], cpu))
    return best


async def _measure(url: str, n: int, repeats: int) -> Results:
    from nemo_sdk import NemoClient
    from nemo_sdk.config import Timeouts

    sdk_timeouts = Timeouts()
    same_timeouts = aiohttp.ClientTimeout(
        total=sdk_timeouts.total, connect=sdk_timeouts.connect, sock_read=sdk_timeouts.read
    )
    results: Results = {}
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100), timeout=same_timeouts
        ) as http_timeouts,
        NemoClient(
            base_url=url, token="nmv_usr_bench", client_id="bench", journal_path=False
        ) as nemo,
    ):

        async def raw() -> object:
            async with http.get(url + PATH, headers={"Authorization": "Bearer x"}) as resp:
                return await resp.json()

        async def raw_timeouts() -> object:
            async with http_timeouts.get(url + PATH, headers={"Authorization": "Bearer x"}) as r:
                return await r.json()

        contenders: dict[str, tuple[Call, int]] = {
            RAW: (raw, n),
            RAW_TIMEOUTS: (raw_timeouts, n),
            SDK: (nemo.credits.balance, n),
        }
        openai_client = _openai_client(url)
        if openai_client is not None:

            async def via_openai() -> object:
                return await openai_client.get(PATH, cast_to=object)

            # A reference point only, and about 4x slower: fewer requests keep the run short.
            contenders[OPENAI] = (via_openai, max(n // 4, 100))
        for concurrency in (1, 50):
            scores = await _best_interleaved(contenders, concurrency, repeats)
            for name, score in scores.items():
                results.setdefault(name, {})[concurrency] = score
        if openai_client is not None:
            await openai_client.close()
    return results


def _openai_client(url: str) -> Any:
    try:
        import openai
    except ImportError:
        return None
    return openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0)


def _import_times(statements: list[str], runs: int) -> dict[str, list[float]]:
    """Seconds per fresh interpreter, the statements alternating so drift hits both."""
    # Installed packages ship compiled bytecode; make sure ours is compiled too, even
    # when PYTHONDONTWRITEBYTECODE is set, or we would time the compiler.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for statement in statements:
        _import_once(statement, env)
    times: dict[str, list[float]] = {s: [] for s in statements}
    for _ in range(runs):
        for statement in statements:
            times[statement].append(_import_once(statement, env))
    return times


def _import_once(statement: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", f"import time; t=time.perf_counter()\n{statement}\n"
         "print(time.perf_counter()-t)"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    return float(out.stdout.strip())


def _leaks_heavy_modules() -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import sys, nemo_sdk; print(sorted(m for m in sys.modules "
         "if m.startswith(('nemo_sdk.emulator', 'nemo_sdk.cli.', 'av', 'numpy', 'PIL', 'click', "
         "'rich'))))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip() or "[]"


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


def _report_requests(results: Results, n: int, repeats: int) -> None:
    print(f"\nrequests/s, best of {repeats} interleaved rounds x {n} GETs "
          f"({OPENAI}: {max(n // 4, 100)}) (higher is better)")  # fmt: skip
    _table(results, 0, "{:>12,.0f}", lambda raw, ours: raw / ours)
    print("\nclient CPU microseconds per request, lowest of the rounds (lower is better;")
    print("steadier than requests/s when other work shares the machine)")
    _table(results, 1, "{:>12.1f}", lambda raw, ours: ours / raw)
    raw, sdk, same = results[RAW], results[SDK], results[RAW_TIMEOUTS]
    print(f"\ntarget: {SDK} within {TARGET}x of plain {RAW} (no read-idle timeout), "
          "per request, in requests/s")  # fmt: skip
    for label, c in (("sequential", 1), ("50-concurrent", 50)):
        ratio = raw[c][0] / sdk[c][0]
        print(f"  {label:<14} {ratio:.2f}x -> {_verdict(ratio, TARGET)}"
              f"   (vs raw + SDK timeouts: {same[c][0] / sdk[c][0]:.2f}x;"
              f" CPU per request vs plain raw: {sdk[c][1] / raw[c][1]:.2f}x)")  # fmt: skip


def _table(results: Results, column: int, fmt: str, ratio: Callable[[float, float], float]) -> None:
    raw = results[RAW]
    print(f"{'client':<28}{'sequential':>12}{'50-concurrent':>15}{'vs raw seq':>12}"
          f"{'vs raw 50':>11}")  # fmt: skip
    for name, by_c in results.items():
        seq, conc = by_c[1][column], by_c[50][column]
        print(f"{name:<28}{fmt.format(seq)}{fmt.format(conc):>15}"
              f"{ratio(raw[1][column], seq):>11.2f}x"
              f"{ratio(raw[50][column], conc):>10.2f}x")  # fmt: skip


def _report_imports(runs: int) -> None:
    base, ours = "import aiohttp, pydantic, tenacity", "import nemo_sdk"
    # ``import pydantic`` is lazy and ``import nemo_sdk`` is lazy too (PEP 562): the
    # last two rows show what a program pays once it really uses them.
    base_models = "import aiohttp, tenacity; from pydantic import BaseModel"
    client = "from nemo_sdk import NemoClient"
    times = _import_times([base, ours, base_models, client], runs)
    print(f"\nimport time, {runs} fresh interpreters each, alternating (lower is better)")
    print(f"{'':<58}{'best':>10}{'median':>10}")
    for stmt, ref in ((base, base), (ours, base), (base_models, base), (client, base_models)):
        t, r = times[stmt], times[ref]
        ratio = "" if stmt == ref else f"  {statistics.median(t) / statistics.median(r):.2f}x"
        print(f"{stmt:<58}{min(t) * 1e3:>7.1f} ms{statistics.median(t) * 1e3:>7.1f} ms{ratio}")
    best = min(times[ours]) / min(times[base])
    median = statistics.median(times[ours]) / statistics.median(times[base])
    print(f"target: `{ours}` within {IMPORT_TARGET}x of `{base}` -> best {best:.2f}x "
          f"({_verdict(best, IMPORT_TARGET)}), median {median:.2f}x "
          f"({_verdict(median, IMPORT_TARGET)})")  # fmt: skip
    client_ratio = statistics.median(times[client]) / statistics.median(times[base])
    print(f"for reference, `{client}` vs `{base}`: median {client_ratio:.2f}x")
    print(f"emulator/CLI imported by `import nemo_sdk`: {_leaks_heavy_modules()}")


# A program's cold start, up to its first typed result: the imports, one client, one
# GET parsed into a pydantic model. The SDK's pydantic models are defined when their
# resource is first used, so the import rows above do not show that cost; these do.
COLD_RAW = f"""
import asyncio, aiohttp, tenacity  # the issue's import baseline
from pydantic import BaseModel
class Credits(BaseModel):
    available: int
    frozen: int
    total: int
async def main():
    async with aiohttp.ClientSession() as http, http.get(URL + "{PATH}") as resp:
        Credits.model_validate((await resp.json())["data"])
asyncio.run(main())
"""
COLD_SDK = """
import asyncio
from nemo_sdk import NemoClient
async def main():
    async with NemoClient(base_url=URL, token="x", client_id="bench", journal_path=False) as nemo:
        await nemo.credits.balance()
asyncio.run(main())
"""


def _report_cold_start(url: str, runs: int) -> None:
    raw, sdk = (f"URL = {url!r}" + code for code in (COLD_RAW, COLD_SDK))
    times = _import_times([raw, sdk], runs)
    print(f"\ncold start to the first typed result, {runs} fresh interpreters each "
          "(lower is better)")  # fmt: skip
    print(f"{'':<58}{'best':>10}{'median':>10}")
    for name, code in (("aiohttp+tenacity, one pydantic model, one GET", raw),
                       ("NemoClient, credits.balance()", sdk)):  # fmt: skip
        t = times[code]
        ratio = statistics.median(t) / statistics.median(times[raw])
        print(f"{name:<58}{min(t) * 1e3:>7.1f} ms{statistics.median(t) * 1e3:>7.1f} ms"
              f"  {ratio:.2f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--import-runs", type=int, default=15)
    parser.add_argument("--skip-requests", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{queue.get(timeout=10)}"
        if not args.skip_requests:
            results = asyncio.run(_measure(url, args.requests, args.repeats))
            _report_requests(results, args.requests, args.repeats)
        _report_imports(args.import_runs)
        _report_cold_start(url, args.import_runs)
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
