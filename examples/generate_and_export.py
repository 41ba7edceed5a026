"""Generate a video from a prompt and download the MP4, in one await.

python examples/generate_and_export.py --emulator   # offline, against the embedded emulator
python examples/generate_and_export.py              # against the service (NEMO_TOKEN optional)
"""

from __future__ import annotations

import argparse
import asyncio

from nemo_sdk import NemoClient, Progress
from nemo_sdk.offline import embedded_client


def show(progress: Progress) -> None:
    percent = "" if progress.percent is None else f" {progress.percent:.0f}%"
    print(f"  {progress.phase}{percent} {progress.message}")


async def main(prompt: str, out: str, use_emulator: bool) -> None:
    async with embedded_client() if use_emulator else NemoClient() as nemo:
        result = await nemo.generate_and_export(prompt, out, on_progress=show, overwrite=True)
        print(f"session {result.session_id}, render {result.render.id}")
        print(f"credits spent: {result.credits_spent}")
        print(f"done: {result.path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulator", action="store_true", help="run against the embedded emulator")
    parser.add_argument("--prompt", default="a cinematic sunset over the ocean, 1080p")
    parser.add_argument("-o", "--out", default="video.mp4")
    args = parser.parse_args()
    asyncio.run(main(args.prompt, args.out, args.emulator))
