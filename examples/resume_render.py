"""Nothing is lost when a program stops early: finish its renders from the journal.

The first run starts an export and "crashes" before downloading; a second
client (as in a new process) lists the unfinished work and completes it.

python examples/resume_render.py --emulator
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from nemo_sdk import NemoClient
from nemo_sdk.offline import embedded_client


async def start_and_crash(nemo: NemoClient) -> str:
    session = await nemo.sessions.create()
    await nemo.chat.send(session.id, "generate a waterfall in a forest")
    job = await nemo.renders.export(session.id)  # recorded in the journal at once
    print(f"started {job.id}, then the program stopped")
    return job.id


async def resume(nemo: NemoClient, out_dir: Path) -> None:
    for pending in await nemo.renders.pending():
        print(f"resuming {pending.render_id} (last status: {pending.status})")
        job = await nemo.renders.wait(pending.render_id)
        path = await nemo.renders.download(job.id, out_dir / f"{job.id}.mp4", overwrite=True)
        print(f"done: {path}")


async def main(use_emulator: bool) -> None:
    journal = Path(tempfile.mkdtemp()) / "renders.sqlite3"  # normally ~/.config/nemovideo
    options = {"journal_path": journal}
    if use_emulator:
        async with embedded_client(client_options=options) as first:
            await start_and_crash(first)
            # A new client, as a new process would make: it reads the same journal.
            async with NemoClient(base_url=first.config.api_url, **options) as second:
                await resume(second, Path("."))
    else:
        async with NemoClient(**options) as first:
            await start_and_crash(first)
        async with NemoClient(**options) as second:
            await resume(second, Path("."))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulator", action="store_true", help="run against the embedded emulator")
    asyncio.run(main(parser.parse_args().emulator))
