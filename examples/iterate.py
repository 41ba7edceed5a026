"""A rough cut, then refine it step by step; the session keeps the timeline.

python examples/iterate.py --emulator
"""

from __future__ import annotations

import argparse
import asyncio

from nemo_sdk import NemoClient
from nemo_sdk.offline import embedded_client

STEPS = [
    'add a title "Harbour Lights" for 2 s',
    "add lo-fi BGM at 35%",
    "trim to 3 s",
]


async def main(use_emulator: bool) -> None:
    async with embedded_client() if use_emulator else NemoClient() as nemo:
        first = await nemo.generate_and_export("a harbour at night", "v1.mp4", overwrite=True)
        print(f"rough cut: {first.path}")
        for step in STEPS:
            result = await nemo.iterate(first.session_id, step)
            print(f"{step!r} -> {result.reply.text or result.reply.summary}")
            print(f"  {result.timeline}")
        final = await nemo.iterate(
            first.session_id, "make it 9:16", export=True, out="final.mp4", overwrite=True
        )
        assert final.result is not None
        print(f"done: {final.result.path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulator", action="store_true", help="run against the embedded emulator")
    asyncio.run(main(parser.parse_args().emulator))
