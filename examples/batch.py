"""Many prompts at once, each to its own MP4; one failure does not stop the others.

python examples/batch.py --emulator
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from nemo_sdk import NemoClient
from nemo_sdk.offline import embedded_client

PROMPTS = [
    "a lighthouse in a storm",
    "a hot air balloon at dawn",
    "a neon city street at night",
]


async def main(out_dir: Path, use_emulator: bool) -> None:
    async with embedded_client(clip_seconds=2) if use_emulator else NemoClient() as nemo:
        results = await nemo.batch(PROMPTS, concurrency=2, out_dir=out_dir, overwrite=True)
    for item in results:
        if item.result is not None:
            print(f"{item.index}: {item.result.path} (render {item.result.render.id})")
        else:
            print(f"{item.index}: failed: {item.error}")
    ok = sum(item.ok for item in results)
    print(f"done: {ok} of {len(results)} videos")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulator", action="store_true", help="run against the embedded emulator")
    parser.add_argument("--out-dir", type=Path, default=Path("batch"))
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(args.out_dir, args.emulator))
