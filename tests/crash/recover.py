"""Recover a killed crash-test job in a new process, with the public API only.

    python -m tests.crash.recover '<plan json>'

The documented recovery (README, docs/renders.md "The job journal"):
``for job in await nemo.renders.pending(): await nemo.renders.download(job.render_id, path)``,
the path being the entry's own ``path`` when the journal has it (the README's
example names it ``<render id>.mp4``; that is the fallback). An entry the service never
acknowledged (status ``submitting`` or ``unconfirmed``) whose download answers
``NotFoundError`` was never made: download drops it, nothing to recover. Then, for a single
job whose file is still missing, docs/recipes/task-queue.md's "resume from the
furthest id" with the ids the job store (the child's trace) holds: a render id
needs only a download; a session id whose draft becomes exportable needs an
export; a job with neither starts again from the prompt.

Prints ``PENDING <json>`` (the journal as found), one ``ERROR`` line per failed
step, ``PENDING_AFTER <json>`` and ``RESULT ok|failed``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import time
from pathlib import Path
from typing import Any

from nemo_sdk import NemoClient, NemoError, NotFoundError, RenderSettings
from nemo_sdk.testing import FAST_CHAT, FAST_RETRY

# Journal statuses of an export the service never answered (PendingRender.status).
_NEVER_ACKNOWLEDGED = ("submitting", "unconfirmed")


def _ids(trace: Path) -> tuple[str | None, str | None]:
    session = render = None
    if trace.exists():
        for line in trace.read_text().splitlines():
            parts = line.split()
            if parts[:2] == ["ID", "session"]:
                session = parts[2]
            elif parts[:2] == ["ID", "render"]:
                render = parts[2]
    return session, render


async def _exportable_draft(nemo: NemoClient, session_id: str, wait: float) -> Any:
    deadline = time.monotonic() + wait
    while True:
        draft = (await nemo.state.get(session_id)).draft
        if draft is not None and draft.is_exportable:
            return draft
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.05)


async def _resume_single(nemo: NemoClient, plan: dict[str, Any], out: Path) -> None:
    session, render = _ids(Path(plan["trace"]))
    if render is not None:
        await nemo.renders.download(render, out)
        return
    if session is not None:
        draft = await _exportable_draft(nemo, session, plan.get("draft_wait", 5.0))
        if draft is not None:
            # Journal the target with the export where the SDK can (``download_to``),
            # so that a recovery racing this one downloads it to ``out`` too.
            where = inspect.signature(nemo.renders.export).parameters
            extra = {"download_to": out} if "download_to" in where else {}
            job = await nemo.renders.export(session, draft, **extra)
            await nemo.renders.download(job.id, out)
            return
        await nemo.generate_and_export(plan["prompts"][0], out, session=session)
        return
    await nemo.generate_and_export(plan["prompts"][0], out)


async def _recover(plan: dict[str, Any]) -> bool:
    out_dir = Path(plan["out_dir"])
    ok = True
    async with NemoClient(
        base_url=plan["api"],
        render_settings=RenderSettings(poll_interval=plan.get("poll", 0.02)),
        retry=FAST_RETRY,
        chat_settings=FAST_CHAT,
    ) as nemo:
        pending = await nemo.renders.pending()
        print("PENDING " + json.dumps([p.model_dump() for p in pending]), flush=True)
        for entry in pending:
            target = Path(entry.path) if entry.path else out_dir / f"{entry.render_id}.mp4"
            try:
                await nemo.renders.download(entry.render_id, target)
            except NotFoundError as exc:
                if entry.status not in _NEVER_ACKNOWLEDGED:
                    ok = False
                    print(f"ERROR download {entry.render_id} NotFoundError: {exc}", flush=True)
                # Else the export was journaled but never reached the service: there is
                # no render, and download dropped the entry. The job's resume follows.
            except (NemoError, OSError) as exc:
                ok = False
                print(f"ERROR download {entry.render_id} {type(exc).__name__}: {exc}", flush=True)
        if plan["mode"] != "batch" and plan.get("resume", True):
            out = out_dir / plan["out"]
            if not out.exists():
                try:
                    await _resume_single(nemo, plan, out)
                except (NemoError, OSError) as exc:
                    ok = False
                    print(f"ERROR resume {type(exc).__name__}: {exc}", flush=True)
        after = await nemo.renders.pending()
        print("PENDING_AFTER " + json.dumps([p.model_dump() for p in after]), flush=True)
    return ok


def main() -> None:
    plan = json.loads(sys.argv[1])
    ok = asyncio.run(_recover(plan))
    print("RESULT " + ("ok" if ok else "failed"), flush=True)


if __name__ == "__main__":
    main()
