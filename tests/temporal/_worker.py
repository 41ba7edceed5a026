"""One Temporal worker process: ``python _worker.py <address> <task queue> <api url>``.

The fleet token comes from ``FLEET_TOKEN`` through the token provider hook.
Prints ``READY`` once polling. The tests SIGKILL it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta

from temporalio.client import Client

from nemo_sdk.contrib.temporal import create_worker
from nemo_sdk.fleet import fleet_client
from nemo_sdk.testing import FAST_RETRY


async def main(address: str, task_queue: str, api_url: str) -> None:
    client = await Client.connect(address)
    nemo = await fleet_client(
        lambda: os.environ["FLEET_TOKEN"], base_url=api_url, retry=FAST_RETRY, journal_path=False
    )
    async with nemo:
        worker = create_worker(
            client,
            nemo,
            task_queue=task_queue,
            # A dead worker's cached workflows move on quickly (default: 10 s).
            sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
            max_concurrent_activities=100,
        )
        async with worker:
            print("READY", flush=True)
            await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
