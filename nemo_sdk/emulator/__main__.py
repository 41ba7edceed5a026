"""``python -m nemo_sdk.emulator``: serve the emulator in the foreground.

A standalone emulator is a developer's server, so its defaults differ from the in-process
``Emulator()`` (whose numbers are the service's): every token request gets a new user
with ``DEV_CREDITS`` credits (runs of a program never drain one shared balance) and the
per-IP token limit is out of the way. ``--realistic`` gives the service's numbers: 100
credits for a new anonymous token (one generated clip; editing costs 50 more), 10 new
tokens per IP, the same live token again for a client id that asks twice. Explicit
options win over both.

Every knob of :class:`~nemo_sdk.emulator.Knobs` can be set with
``--knob NAME=VALUE`` (repeatable), e.g. a fast emulator for a load test::

    python -m nemo_sdk.emulator --port 0 \\
        --knob render_seconds=0 --knob clip_seconds=0.2 --knob clip_width=64 \\
        --knob clip_height=36 --knob clip_fps=6 --knob render_slots=8

The first line printed says where it listens (``NemoVideo emulator: API <url>  CDN <url>``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from . import knobs
from .server import Emulator

DEV_CREDITS = 100_000
"""Credits of every new token on a standalone emulator (without ``--realistic``)."""
DEV_TOKENS_PER_IP = 100_000
REALISTIC_CREDITS = 100
REALISTIC_TOKENS_PER_IP = 10


def parse_knob(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` as a knob name and its checked value (argparse shows a refusal)."""
    try:
        return knobs.parse_knob(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def standalone_settings(
    *,
    realistic: bool = False,
    starting_credits: int | None = None,
    tokens_per_ip: int | None = None,
    reissue_client_tokens: bool | None = None,
) -> dict[str, Any]:
    """The ``Emulator`` arguments of a standalone emulator, plus ``fresh_client_tokens``.

    ``None`` means "the mode's default" (development, or ``realistic``: the service's).
    """
    return {
        "starting_credits": starting_credits
        if starting_credits is not None
        else (REALISTIC_CREDITS if realistic else DEV_CREDITS),
        "tokens_per_ip": tokens_per_ip
        if tokens_per_ip is not None
        else (REALISTIC_TOKENS_PER_IP if realistic else DEV_TOKENS_PER_IP),
        "reissue_client_tokens": True if reissue_client_tokens is None else reissue_client_tokens,
        # A new user per token request, unless the service's rules are asked for.
        "fresh_client_tokens": not realistic and reissue_client_tokens is None,
    }


async def _serve(args: argparse.Namespace) -> None:
    chosen_knobs = knobs.make_knobs(**dict(args.knob or []))
    chosen = standalone_settings(
        realistic=args.realistic,
        starting_credits=args.starting_credits,
        tokens_per_ip=args.tokens_per_ip,
        reissue_client_tokens=args.reissue_client_tokens,
    )
    fresh = chosen.pop("fresh_client_tokens")
    async with Emulator(
        port=args.port, cdn_port=args.cdn_port, seed=args.seed, knobs=chosen_knobs, **chosen
    ) as emu:
        emu.store.fresh_client_tokens = fresh
        mode = "realistic" if args.realistic else "development"
        print(f"NemoVideo emulator: API {emu.url}  CDN {emu.cdn_url}", flush=True)
        print(
            f"  {mode} mode: {chosen['starting_credits']} credits per new token"
            + (", a new token per request" if fresh else ""),
            flush=True,
        )
        print(f"  export NEMO_API_URL={emu.url}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nemo_sdk.emulator")
    parser.add_argument("--port", type=int, default=8765, help="API port (0: any free port)")
    parser.add_argument("--cdn-port", type=int, default=0)
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="the service's numbers: 100 credits per new anonymous token (one generated "
        "clip), 10 tokens per IP, one live token per client id",
    )
    parser.add_argument(
        "--starting-credits",
        type=int,
        default=None,
        help=f"credits of a new token ({DEV_CREDITS}; --realistic: {REALISTIC_CREDITS})",
    )
    parser.add_argument(
        "--tokens-per-ip",
        type=int,
        default=None,
        help=f"new anonymous tokens per IP per 7 days ({DEV_TOKENS_PER_IP}; "
        f"--realistic: {REALISTIC_TOKENS_PER_IP})",
    )
    parser.add_argument(
        "--reissue-client-tokens",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="give a client id that holds a live token the same one again (--realistic); "
        "--no-reissue-client-tokens refuses it (429, limit per_client); by default every "
        "request gets a new token and user",
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
