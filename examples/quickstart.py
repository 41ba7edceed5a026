"""Quickstart: generate a video from a prompt, export it and download the MP4.

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

    # A 5 s, 720p procedural clip: long enough to look at, quick to render offline.
    async with Emulator(clip_seconds=5, clip_width=1280, clip_height=720, clip_fps=24) as emu:
        print(f"emulator running at {emu.url} (offline; its 'AI' is rule-based)")
        async with NemoClient(base_url=emu.url) as nemo:
            yield nemo


async def main(use_emulator: bool, prompt: str, out: str) -> None:
    async with connect(use_emulator) as nemo:
        print("Connecting...")
        session = await nemo.sessions.create(language="en")
        print(f"Ready! session {session.id}")
        credits = await nemo.credits.balance()
        print(
            f"credits: {credits.available} available, {credits.frozen} frozen, "
            f"{credits.total} total"
        )
        print("Generating (this may take a few minutes on the real service)...")
        reply = await nemo.chat.send(session.id, f"generate {prompt}")
        print(reply.text or reply.summary or "(the agent sent no text)")
        state = await nemo.state.get(session.id)
        print(format_timeline(state.draft))
        job = await nemo.renders.export(session.id, state.draft)
        print(f"rendering {job.id}...")
        job = await nemo.renders.wait(
            job.id, on_progress=lambda j: print(f"  {j.status} {j.progress or 0:.0f}%")
        )
        path = await nemo.renders.download(job.id, out, overwrite=True)
        print(f"done: {path}")
        link = await nemo.sessions.claim_link(session)
        print(f"open in the browser: {link.url}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulator", action="store_true", help="run against the embedded emulator")
    parser.add_argument("--prompt", default="a cinematic sunset over the ocean, 1080p")
    parser.add_argument("-o", "--out", default="video.mp4")
    args = parser.parse_args()
    asyncio.run(main(args.emulator, args.prompt, args.out))
