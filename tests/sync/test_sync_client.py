"""The sync facade against the emulator (served from its own thread), from plain sync code."""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import av
import pytest

from nemo_sdk import (
    ChatReply,
    ClientClosedError,
    EventHandler,
    EventLoopMismatchError,
    InvalidArgument,
    SessionNotFoundError,
    TextDelta,
)
from nemo_sdk import NemoClient as AsyncNemoClient
from nemo_sdk.progress import Progress
from nemo_sdk.sync import NemoClient
from nemo_sdk.workflows import GenerateResult


def _loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "nemo-sdk-sync"]


def test_generate_and_export_makes_a_playable_mp4(nemo: NemoClient, tmp_path: Path) -> None:
    out = tmp_path / "sunset.mp4"
    result = nemo.generate_and_export("a cinematic sunset over the ocean", out)

    assert isinstance(result, GenerateResult)
    assert result.path == out and out.is_file()
    with av.open(str(out)) as container:
        assert container.duration is not None and container.duration > 0
        assert len(container.streams.video) == 1
    assert result.render.succeeded and result.credits_spent == 100
    assert nemo.renders.pending() == []


def test_the_resources_answer_with_the_async_types(nemo: NemoClient, tmp_path: Path) -> None:
    session = nemo.sessions.create(language="en")
    reply = nemo.chat.send(session.id, "generate a forest at dawn")
    assert isinstance(reply, ChatReply) and reply.text
    draft = nemo.state.get(session.id).draft
    assert draft is not None and draft.is_exportable
    job = nemo.renders.wait(nemo.renders.export(session.id, draft).id)
    assert nemo.renders.download(job.id, tmp_path / "f.mp4") == tmp_path / "f.mp4"
    assert nemo.credits.balance().total >= 0
    assert nemo.auth.user_id is not None and nemo.auth.client_id


def test_a_chat_stream_is_a_sync_context_manager_and_iterator(nemo: NemoClient) -> None:
    session = nemo.sessions.create()
    with nemo.chat.stream(session.id, "generate a city at night") as events:
        seen = list(events)
    assert seen and seen == events.received
    assert events.reply.text

    with nemo.chat.stream(session.id, "add a title 'Night'") as events:
        text = "".join(events.text_deltas())
    assert text == events.reply.text


def test_leaving_a_stream_early_closes_it(nemo: NemoClient) -> None:
    session = nemo.sessions.create()
    with nemo.chat.stream(session.id, "generate a city at night") as events:
        for _ in events:
            break
    with pytest.raises(RuntimeError, match="not ended"):
        events.reply  # noqa: B018
    assert nemo.credits.balance() is not None  # the client goes on


def test_many_threads_share_one_client(nemo: NemoClient) -> None:
    def work(_: int) -> tuple[str, str, bool]:
        session = nemo.sessions.create()
        nemo.chat.send(session.id, "generate a waterfall")
        draft = nemo.state.get(session.id).draft
        exportable = draft is not None and draft.is_exportable
        return session.id, threading.current_thread().name, exportable

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, range(12)))

    assert len({sid for sid, _, _ in results}) == 12
    assert len({name for _, name, _ in results}) > 1  # really from several threads
    assert all(exportable for _, _, exportable in results)
    assert len(_loop_threads()) == 1  # and one loop for all of them


def test_a_client_outlives_any_number_of_asyncio_runs(client_kwargs: dict[str, Any]) -> None:
    # The async client, reused across asyncio.run calls, fails on the second:
    async_client = AsyncNemoClient(**client_kwargs)
    asyncio.run(async_client.credits.balance())
    with pytest.raises(EventLoopMismatchError):
        asyncio.run(async_client.credits.balance())

    # The sync client: before, between and inside other asyncio.run calls (a notebook
    # cell runs inside a loop), it keeps working.
    with NemoClient(**client_kwargs) as nemo:
        first = nemo.sessions.create().id
        asyncio.run(asyncio.sleep(0))

        async def inside_a_loop() -> str:
            return nemo.sessions.create().id

        second = asyncio.run(inside_a_loop())
        assert first != second
        assert nemo.state.get(first) is not None and nemo.state.get(second) is not None


def test_errors_arrive_with_their_types(nemo: NemoClient, tmp_path: Path) -> None:
    with pytest.raises(SessionNotFoundError):
        nemo.chat.send("sess_nowhere", "hello")
    with pytest.raises(InvalidArgument):  # checked before anything is sent
        nemo.chat.send("sess_x", "   ")
    with pytest.raises(InvalidArgument):
        nemo.generate_and_export("a lake", tmp_path / "lake.mp4", max_turns=0)


def test_close_stops_the_loop_and_closes_the_async_client(
    client_kwargs: dict[str, Any],
) -> None:
    before = len(_loop_threads())
    nemo = NemoClient(**client_kwargs)
    nemo.credits.balance()
    assert len(_loop_threads()) == before + 1
    nemo.close()
    nemo.close()  # idempotent
    assert nemo.closed and nemo._target.closed
    assert len(_loop_threads()) == before
    with pytest.raises(ClientClosedError):
        nemo.credits.balance()


def test_close_cancels_a_call_running_in_another_thread(
    client_kwargs: dict[str, Any],
) -> None:
    nemo = NemoClient(**client_kwargs)
    session = nemo.sessions.create()
    draft = (nemo.chat.send(session.id, "generate a beach") and nemo.state.get(session.id)).draft
    assert draft is not None
    job = nemo.renders.export(session.id, draft)
    outcome: list[BaseException] = []
    started = threading.Event()

    def waiting() -> None:
        started.set()
        try:
            nemo.renders.wait(job.id)  # the render takes 30 s (the marker below)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=waiting)
    worker.start()
    started.wait()
    nemo.close()
    worker.join(10)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ClientClosedError), outcome


test_close_cancels_a_call_running_in_another_thread = pytest.mark.nemo_emulator(render_seconds=30)(
    test_close_cancels_a_call_running_in_another_thread
)


def test_a_with_options_copy_shares_the_loop_and_its_close_is_a_no_op(
    nemo: NemoClient,
) -> None:
    copy = nemo.with_options(timeout=30, max_retries=1)
    assert isinstance(copy, NemoClient) and copy.config.retry.max_retries == 1
    assert copy.credits.balance() is not None
    copy.close()
    assert not nemo.closed and nemo.credits.balance() is not None


def test_calling_the_facade_from_its_own_loop_is_a_clear_error(
    nemo: NemoClient, tmp_path: Path
) -> None:
    errors: list[BaseException] = []

    def on_progress(progress: Progress) -> None:  # runs on the client's loop thread
        if not errors:
            try:
                nemo.credits.balance()
            except BaseException as exc:
                errors.append(exc)

    nemo.generate_and_export("a meadow", tmp_path / "m.mp4", on_progress=on_progress)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert "its own event loop thread" in str(errors[0])


def test_event_handlers_stay_async_and_run_on_the_client_loop(nemo: NemoClient) -> None:
    threads: set[str] = set()
    texts: list[str] = []

    class Collect(EventHandler):
        async def on_text(self, delta: TextDelta) -> None:
            threads.add(threading.current_thread().name)
            texts.append(delta.text)

    session = nemo.sessions.create()
    reply = nemo.chat.send(session.id, "generate a desert", handler=Collect())
    assert texts and "".join(texts) == reply.text
    assert threads == {"nemo-sdk-sync"}


def test_bad_settings_raise_before_any_thread_starts(tmp_path: Path) -> None:
    before = len(_loop_threads())
    with pytest.raises(InvalidArgument, match="http_session"):
        NemoClient(token="t", journal_path=False, http_session=object())  # type: ignore[arg-type]
    assert len(_loop_threads()) == before


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_client_made_before_a_fork_says_so_in_the_child(nemo: NemoClient) -> None:
    nemo.credits.balance()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what a call does, and leave at once
        try:
            try:
                nemo.credits.balance()
                message = b"no error"
            except RuntimeError as exc:
                message = str(exc).encode()
            os.write(write, message)
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    assert "before the process forked" in message
    assert nemo.credits.balance() is not None  # the parent's client is untouched
