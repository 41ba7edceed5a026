"""Without the application importing OpenTelemetry, the SDK neither imports nor uses it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from asyncio.subprocess import PIPE

import pytest

from nemo_sdk.emulator import Emulator

# A client's calls: a JSON request, a chat turn (a stream), with nothing of OTel loaded.
CALLS = """
import asyncio, sys
{before}
import nemo_sdk

async def main():
    async with nemo_sdk.NemoClient(base_url={url!r}) as nemo:
        await nemo.credits.balance()
        session = await nemo.sessions.create()
        reply = await nemo.chat.send(session.id, "generate a fox")
        assert reply.text
loaded = lambda: sorted(m for m in sys.modules if m.startswith("opentelemetry"))
{check}
asyncio.run(main())
{check}
print("ok")
"""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _run_beside(code: str) -> str:
    """``code`` in a child Python while this loop serves the emulator it talks to."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode()
    return out.decode()


def test_import_nemo_sdk_loads_no_opentelemetry() -> None:
    code = (
        "import nemo_sdk, sys; "
        "bad = [m for m in sys.modules if m.startswith('opentelemetry')]; "
        "assert not bad, bad; print('ok')"
    )
    assert _run(code).strip() == "ok"


@pytest.mark.slow(seconds=3)
async def test_requests_and_a_chat_turn_load_no_opentelemetry(emulator: Emulator) -> None:
    code = CALLS.format(before="", url=emulator.url, check="assert loaded() == [], loaded()")
    assert (await _run_beside(code)).strip() == "ok"


@pytest.mark.slow(seconds=3)
async def test_with_the_api_imported_but_no_provider_everything_works_untraced(
    emulator: Emulator,
) -> None:
    # The API's default provider makes non-recording spans: the calls work as before.
    pytest.importorskip("opentelemetry.trace")
    code = CALLS.format(
        before="import opentelemetry.trace", url=emulator.url, check="assert loaded(), loaded()"
    )
    assert (await _run_beside(code)).strip() == "ok"
