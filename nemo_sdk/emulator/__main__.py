"""``python -m nemo_sdk.emulator``: serve the emulator in the foreground.

Every knob of :class:`~nemo_sdk.emulator.server.Knobs` can be set with
``--knob NAME=VALUE`` (repeatable), e.g. a fast emulator for a load test::

    python -m nemo_sdk.emulator --port 0 --starting-credits 1000000 --tokens-per-ip 1000 \\
        --knob render_seconds=0 --knob clip_seconds=0.2 --knob clip_width=64 \\
        --knob clip_height=36 --knob clip_fps=6 --knob render_slots=8

The first line printed says where it listens (``NemoVideo emulator: API <url>  CDN <url>``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
from typing import Any

from .server import Emulator, Knobs


def parse_knob(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` as a knob name and a value of the knob's type."""
    name, sep, raw = text.partition("=")
    fields = {f.name: f for f in dataclasses.fields(Knobs)}
    if not sep or name not in fields:
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE with NAME one of {', '.join(sorted(fields))}, got {text!r}"
        )
    default = fields[name].default
    value: Any
    if isinstance(default, bool):
        value = raw.strip().lower() in ("1", "true", "yes", "on")
    elif isinstance(default, int):
        value = int(raw)
    elif isinstance(default, float):
        value = float(raw)
    elif default is None and raw.lower() in ("", "none"):
        value = None
    else:
        value = raw
    return name, value


async def _serve(args: argparse.Namespace) -> None:
    knobs = dict(args.knob or [])
    async with Emulator(
        port=args.port,
        cdn_port=args.cdn_port,
        starting_credits=args.starting_credits,
        tokens_per_ip=args.tokens_per_ip,
        reissue_client_tokens=args.reissue_client_tokens,
        seed=args.seed,
        **knobs,
    ) as emu:
        print(f"NemoVideo emulator: API {emu.url}  CDN {emu.cdn_url}", flush=True)
        print(f"  export NEMO_API_URL={emu.url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nemo_sdk.emulator")
    parser.add_argument("--port", type=int, default=8765, help="API port (0: any free port)")
    parser.add_argument("--cdn-port", type=int, default=0)
    parser.add_argument("--starting-credits", type=int, default=100)
    parser.add_argument("--tokens-per-ip", type=int, default=10)
    parser.add_argument(
        "--reissue-client-tokens",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give a client id that holds a live token the same one again (default); "
        "--no-reissue-client-tokens refuses it (429, limit per_client)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--knob",
        type=parse_knob,
        action="append",
        metavar="NAME=VALUE",
        help="set an emulator knob (render_seconds, clip_seconds, render_slots, ...)",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
