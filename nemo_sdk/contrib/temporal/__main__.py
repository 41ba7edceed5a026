"""Run a video worker: ``python -m nemo_sdk.contrib.temporal --address host:7233``.

The token comes from ``NEMO_TOKEN`` (a registered token every worker shares);
the API from ``NEMO_API_URL`` or ``--api-url``. Prints ``READY`` once polling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import timedelta

from temporalio.client import Client

from ...client import NemoClient
from .worker import TASK_QUEUE, create_worker


async def _run(args: argparse.Namespace) -> None:
    temporal = await Client.connect(args.address, namespace=args.namespace)
    async with NemoClient(base_url=args.api_url, journal_path=False) as nemo:
        worker = create_worker(
            temporal,
            nemo,
            task_queue=args.task_queue,
            max_task_queue_activities_per_second=args.rate,
            max_concurrent_activities=args.max_activities,
            sticky_queue_schedule_to_start_timeout=timedelta(seconds=args.sticky_timeout),
        )
        async with worker:
            print("READY", flush=True)
            await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """The worker's command line."""
    parser = argparse.ArgumentParser(prog="python -m nemo_sdk.contrib.temporal")
    parser.add_argument("--address", default="127.0.0.1:7233", help="Temporal frontend")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", default=TASK_QUEUE)
    parser.add_argument("--api-url", default=None, help="default: NEMO_API_URL")
    parser.add_argument(
        "--rate", type=float, default=None, help="task-queue activities per second (fleet-wide)"
    )
    parser.add_argument("--max-activities", type=int, default=200)
    parser.add_argument("--sticky-timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
