"""Recovering a download cut short by a kill (issue 13; found by the crash harness).

A process killed between placing the file and forgetting the journal entry, or
between journaling an export and its POST arriving, must leave nothing that the
documented recovery (``pending()`` then ``download(id, entry.path)``) cannot finish.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from nemo_sdk import NemoClient, NotFoundError
from nemo_sdk._files.download import partial_path
from nemo_sdk.emulator import Emulator

from .conftest import ready_render


def _journal(client: NemoClient):  # type: ignore[no-untyped-def]
    journal = client.renders.journal
    assert journal is not None
    return journal


async def test_a_kill_after_the_link_leaves_a_file_the_next_download_finishes(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    rid, body = ready_render(emulator, session_id, size=64 * 1024)
    target = tmp_path / "out.mp4"
    await _journal(client).record(rid, session_id, path=str(target))
    part = partial_path(target, rid)
    part.write_bytes(body)
    os.link(part, target)  # the process died here, before unlinking the .part
    requests = len(emulator.requests)

    assert await client.renders.download(rid, target) == target

    assert target.read_bytes() == body
    assert not part.exists() and not part.with_name(part.name[:-5] + ".meta").exists()
    assert await client.renders.pending() == []
    assert len(emulator.requests) == requests  # nothing asked, nothing fetched again


async def test_a_kill_after_the_partial_file_went_leaves_a_file_the_next_download_finishes(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    rid, body = ready_render(emulator, session_id, size=64 * 1024)
    target = tmp_path / "out.mp4"
    journal = _journal(client)
    await journal.record(rid, session_id, path=str(target))
    await journal.update(rid, status="placing")  # what download records before placing
    target.write_bytes(body)  # placed, .part unlinked, killed before the forget

    assert await client.renders.download(rid, target) == target
    assert target.read_bytes() == body
    assert await client.renders.pending() == []


@pytest.mark.parametrize("status", ["completed", "placing"])
async def test_a_file_of_the_user_at_the_path_is_never_taken_for_the_render(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path, status: str
) -> None:
    rid, body = ready_render(emulator, session_id, size=64 * 1024)
    target = tmp_path / "out.mp4"
    journal = _journal(client)
    await journal.record(rid, session_id, path=str(target))
    await journal.update(rid, status=status)
    # Not the render's inode; for "completed" even media bytes are not enough.
    mine = body[:32] + b"mine" if status == "completed" else b"my own notes, not a video"
    target.write_bytes(mine)
    partial_path(target, rid).write_bytes(body[:1000])  # a resumable .part, another inode

    with pytest.raises(FileExistsError):
        await client.renders.download(rid, target)

    assert target.read_bytes() == mine
    assert [p.render_id for p in await client.renders.pending()] == [rid]


async def test_an_export_killed_before_its_post_arrived_is_dropped_by_download(
    client: NemoClient, session_id: str, tmp_path: Path
) -> None:
    rid = f"render_{uuid.uuid4().hex}"  # journaled, then killed before the POST went out
    await _journal(client).record(rid, session_id, path=str(tmp_path / "out.mp4"))

    with pytest.raises(NotFoundError):
        await client.renders.download(rid, tmp_path / "out.mp4")

    assert await client.renders.pending() == []
    assert not (tmp_path / "out.mp4").exists()


async def test_an_acknowledged_export_stays_journaled_after_a_404(
    client: NemoClient, session_id: str, tmp_path: Path
) -> None:
    rid = f"render_{uuid.uuid4().hex}"
    journal = _journal(client)
    await journal.record(rid, session_id)
    await journal.update(rid, status="processing")  # the service said it had it

    with pytest.raises(NotFoundError):
        await client.renders.download(rid, tmp_path / "out.mp4")

    assert [p.render_id for p in await client.renders.pending()] == [rid]
