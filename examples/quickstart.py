"""Quickstart: connect, open a session, and show the credits and the timeline.

python examples/quickstart.py --emulator   # offline, against the embedded emulator
python examples/quickstart.py              # against NEMO_API_URL (default: the service)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator

from nemo_sdk import NemoClient
from nemo_sdk.timeline import format_timeline


@contextlib.asynccontextmanager
async def connect(use_emulator: bool) -> AsyncIterator[NemoClient]:
    """A client against the embedded emulator, or against the configured service."""
    if not use_emulator:
        async with NemoClient() as nemo:
            yield nemo
        return
    from nemo_sdk.emulator import Emulator

    async with Emulator() as emu:
        print(f"emulator running at {emu.url} (offline; its 'AI' is rule-based)")
        async with NemoClient(base_url=emu.url) as nemo:
            yield nemo


async def main(use_emulator: bool) -> None:
    async with connect(use_emulator) as nemo:
        print("Connecting...")
        session = await nemo.sessions.create(language="en")
        print(f"Ready! session {session.id}")
        credits = await nemo.credits.balance()
        print(
            f"credits: {credits.available} available, {credits.frozen} frozen, "
            f"{credits.total} total"
        )
        state = await nemo.state.get(session.id)
        print(format_timeline(state.draft) if state.draft else "Timeline: empty (generate first)")
        link = await nemo.sessions.claim_link(session)
        print(f"open in the browser: {link.url}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulator", action="store_true", help="run against the embedded emulator")
    asyncio.run(main(parser.parse_args().emulator))
