"""``python -m nemo_sdk.emulator``: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .server import Emulator


async def _serve(port: int, cdn_port: int) -> None:
    async with Emulator(port=port, cdn_port=cdn_port) as emu:
        print(f"NemoVideo emulator: API {emu.url}  CDN {emu.cdn_url}", flush=True)
        print(f"  export NEMO_API_URL={emu.url}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m nemo_sdk.emulator")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--cdn-port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.cdn_port))


if __name__ == "__main__":
    main()
