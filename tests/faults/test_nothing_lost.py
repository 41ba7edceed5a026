"""Exports whose answer was lost: never a second render, never a render the journal forgets.

Found by the soak: an export's answer was lost *and* the look-up of its id failed,
and the SDK then submitted again under a new id, leaving the first render on the
server with no journal entry (and rendered twice). Now the id stays in the
journal, marked ``unconfirmed``, and the submit's error is raised.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_sdk import APIConnectionError, NotFoundError

from .conftest import TINY_DRAFT, make_rig


async def test_lost_answer_and_failed_lookup_keep_the_render_journaled(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        nemo, emu = rig.nemo, rig.emu
        sid = (await nemo.sessions.create()).id
        emu.faults.add("export", "drop", after_apply=True)  # made, the answer lost
        emu.faults.add("poll", "garbage")  # and the look-up garbled
        with pytest.raises(APIConnectionError):
            await nemo.renders.export(sid, TINY_DRAFT)
        assert emu.count("export") == 1  # no second submit under a new id
        (rid,) = emu.renders
        (entry,) = await nemo.renders.pending()
        assert (entry.render_id, entry.status) == (rid, "unconfirmed")
        job = await nemo.renders.wait(rid, poll_interval=0.01)  # the id resumes it
        assert job.succeeded
        path = await nemo.renders.download(rid, tmp_path / "out" / "video.mp4")
        assert path.exists() and await nemo.renders.pending() == []


async def test_an_unconfirmed_export_that_never_existed_leaves_the_journal(
    tmp_path: Path,
) -> None:
    async with make_rig(tmp_path) as rig:
        nemo, emu = rig.nemo, rig.emu
        sid = (await nemo.sessions.create()).id
        emu.faults.add("export", "drop")  # cut before the server acted
        emu.faults.add("poll", "500", times=3)  # the look-up fails on every retry
        with pytest.raises(APIConnectionError):
            await nemo.renders.export(sid, TINY_DRAFT)
        assert emu.renders == {} and emu.count("export") == 1
        (entry,) = await nemo.renders.pending()
        assert entry.status == "unconfirmed"
        with pytest.raises(NotFoundError):
            await nemo.renders.wait(entry.render_id, poll_interval=0.01)
        assert await nemo.renders.pending() == []  # the service never had it


async def test_a_lookup_that_says_not_found_allows_one_new_id(tmp_path: Path) -> None:
    async with make_rig(tmp_path) as rig:
        nemo, emu = rig.nemo, rig.emu
        sid = (await nemo.sessions.create()).id
        emu.faults.add("export", "drop")  # cut before the server acted
        job = await nemo.renders.export(sid, TINY_DRAFT)
        assert list(emu.renders) == [job.id] and emu.count("export") == 2
        assert [p.render_id for p in await nemo.renders.pending()] == [job.id]
