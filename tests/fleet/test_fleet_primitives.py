"""Engine-neutral fleet primitives against the emulator: chosen render ids, retryable
errors, the per-poll hook, downloads into streams, the shared-token hook."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys

import pytest

from nemo_sdk import NemoClient, errors
from nemo_sdk.emulator import Emulator
from nemo_sdk.fleet import fleet_client, require_shared_identity, resolve_token
from nemo_sdk.testing import FAST_RETRY

DRAFT = {"t": [{"tt": 0, "sg": [{"d": 1000, "m": {"name": "x"}}]}]}


async def _session(nemo: NemoClient, emulator: Emulator) -> str:
    session = await nemo.sessions.create()
    emulator.set_draft(session.id, DRAFT)
    return session.id


# ------------------------------------------------------------------ render ids


async def test_chosen_render_id_is_get_or_create(client: NemoClient, emulator: Emulator) -> None:
    sid = await _session(client, emulator)
    first = await client.renders.export(sid, render_id="render_job-42")
    again = await client.renders.export(sid, render_id="render_job-42")
    assert first.id == again.id == "render_job-42"
    assert list(emulator.renders) == ["render_job-42"]
    assert emulator.count("export") == 1  # the second call only looked it up


async def test_concurrent_exports_under_one_id_make_one_render(
    client: NemoClient, emulator: Emulator
) -> None:
    sid = await _session(client, emulator)
    jobs = await asyncio.gather(
        *(client.renders.export(sid, render_id="render_same") for _ in range(5))
    )
    assert {job.id for job in jobs} == {"render_same"}
    assert list(emulator.renders) == ["render_same"]


async def test_chosen_id_whose_answer_was_lost_is_found_not_remade(
    client: NemoClient, emulator: Emulator
) -> None:
    sid = await _session(client, emulator)
    emulator.faults.add("export", "drop", after_apply=True)  # accepted, answer lost
    job = await client.renders.export(sid, render_id="render_lost")
    assert job.id == "render_lost"
    assert list(emulator.renders) == ["render_lost"]


async def test_chosen_id_is_never_replaced_by_a_new_one(
    client: NemoClient, emulator: Emulator
) -> None:
    sid = await _session(client, emulator)
    emulator.faults.add("export", "500", times=None)
    with pytest.raises(errors.ServerError):
        await client.renders.export(sid, render_id="render_refused")
    assert not emulator.renders  # no second render under a made-up id


async def test_malformed_chosen_id_is_refused_before_sending(
    client: NemoClient, emulator: Emulator
) -> None:
    sid = await _session(client, emulator)
    before = len(emulator.requests)
    with pytest.raises(errors.InvalidArgument):
        await client.renders.export(sid, render_id="../render")
    assert len(emulator.requests) == before


# ------------------------------------------------------------------ retryable


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (errors.NotFoundError("gone", status=404), False),
        (errors.ExportBlocked("plan", status=402), False),
        (errors.InsufficientCreditsError("broke", status=200, code=2001), False),
        (errors.SessionNotFoundError("no session", code=1002), False),
        (errors.RenderFailed("failed", render_id="r"), False),
        (errors.InvalidArgument("bad"), False),
        (errors.RateLimitError("slow down", status=429, retry_after=1.0), True),
        (errors.ServerError("oops", status=503), True),
        (errors.APIError("teapot", status=500), True),
        (errors.APIConnectionError("reset"), True),
        (errors.APITimeoutError("timeout"), True),
        (errors.RenderTimeout("later", render_id="r"), True),
    ],
)
def test_retryable(error: errors.NemoError, retryable: bool) -> None:
    assert error.retryable is retryable


async def test_retryable_on_real_answers(client: NemoClient, emulator: Emulator) -> None:
    sid = await _session(client, emulator)
    with pytest.raises(errors.NotFoundError) as missing:
        await client.renders.get("render_nothing_here")
    assert missing.value.retryable is False
    emulator.faults.add("export", "429", times=None, retry_after="0.01")
    with pytest.raises(errors.RateLimitError) as limited:
        await client.renders.export(sid, render_id="render_limited")
    assert limited.value.retryable is True


# ------------------------------------------------------------------ polling hook


async def test_on_poll_is_called_after_every_answered_poll() -> None:
    async with (
        Emulator(render_seconds=0.3) as emu,
        NemoClient(base_url=emu.url, retry=FAST_RETRY) as nemo,
    ):
        sid = await _session(nemo, emu)
        job = await nemo.renders.export(sid)
        polls: list[str] = []
        emu.faults.add("poll", "500")  # a failed poll is not an answer
        done = await nemo.renders.wait(
            job.id, poll_interval=0.02, on_poll=lambda j: polls.append(j.status)
        )
        assert done.succeeded
        answered = emu.count("poll") - 1 - 2  # minus the failure and the SDK's retries
        assert len(polls) >= 3
        assert polls[-1] == "completed"
        assert len(polls) <= emu.count("poll")
        assert answered <= len(polls) + 2


# ------------------------------------------------------------------ stream downloads


async def _rendered(nemo: NemoClient, emu: Emulator) -> tuple[str, bytes]:
    sid = await _session(nemo, emu)
    job = await nemo.renders.export(sid)
    done = await nemo.renders.wait(job.id, poll_interval=0.01)
    record = emu.renders[done.id]
    assert record.path is not None
    return done.id, record.path.read_bytes()


async def test_download_into_a_binary_stream(client: NemoClient, emulator: Emulator) -> None:
    rid, expected = await _rendered(client, emulator)
    sink = io.BytesIO()
    size = await client.renders.download(rid, sink)
    assert size == len(expected) and sink.getvalue() == expected


async def test_download_into_an_async_writer_resumes_after_a_drop(
    client: NemoClient, emulator: Emulator
) -> None:
    rid, expected = await _rendered(client, emulator)
    chunks: list[bytes] = []

    class Writer:
        async def write(self, data: bytes) -> None:
            await asyncio.sleep(0)
            chunks.append(bytes(data))

    emulator.faults.add("cdn", "truncate")  # half the file, then the connection closes
    size = await client.renders.download(rid, Writer())
    assert b"".join(chunks) == expected and size == len(expected)
    ranged = [r for r in emulator.requests if r.route == "cdn" and "Range" in r.headers]
    assert ranged  # the second request continued, it did not start again


async def test_download_into_a_stream_refuses_an_html_answer(
    client: NemoClient, emulator: Emulator
) -> None:
    rid, expected = await _rendered(client, emulator)
    emulator.faults.add("cdn", "garbage", body=b"<html>error</html>")
    sink = io.BytesIO()
    await client.renders.download(rid, sink)
    assert sink.getvalue() == expected  # the fallback route delivered the real file


# ------------------------------------------------------------------ shared credentials


async def test_token_providers() -> None:
    class Store:
        async def get_token(self) -> str:
            return "nmv_usr_object"

    async def provider() -> str:
        return "nmv_usr_async"

    assert await resolve_token(provider) == "nmv_usr_async"
    assert await resolve_token(lambda: " nmv_usr_plain\n") == "nmv_usr_plain"
    assert await resolve_token(Store()) == "nmv_usr_object"
    with pytest.raises(errors.ConfigurationError):
        await resolve_token(lambda: "")


async def test_fleet_client_uses_the_provided_token(emulator: Emulator) -> None:
    token = emulator.issue_token()
    async with await fleet_client(lambda: token, base_url=emulator.url, retry=FAST_RETRY) as nemo:
        require_shared_identity(nemo)  # a supplied token: fine
        await nemo.sessions.create()
    assert emulator.count("token") == 0  # no anonymous token was minted
    assert token not in repr(nemo)


class RotatingSecret:
    """A fleet's secret store: hands out the current token, counts the times asked."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.asked = 0

    async def get_token(self) -> str:
        self.asked += 1
        await asyncio.sleep(0.02)  # a store's round trip: other callers pile up meanwhile
        return self.token


async def test_a_rotated_token_is_asked_for_once_when_fifty_calls_meet_1001(
    emulator: Emulator,
) -> None:
    first = emulator.store.issue_token()
    secret = RotatingSecret(first.value)
    async with await fleet_client(secret, base_url=emulator.url, retry=FAST_RETRY) as nemo:
        sid = (await nemo.sessions.create()).id
        assert secret.asked == 1
        # The fleet rotates its secret: the old token is revoked, a new one (same account)
        # is in the store.
        emulator.store.expire(first.value)
        secret.token = emulator.store.issue_token(user_id=first.user_id).value
        states = await asyncio.gather(*(nemo.state.get(sid) for _ in range(50)))
        assert len(states) == 50
        assert secret.asked == 2  # single-flight: one question for the fifty 1001s
        # A copy with other settings shares the provider and the new token.
        await nemo.with_options(max_retries=1).state.get(sid)
        assert secret.asked == 2
    sent = [r.headers.get("Authorization") for r in emulator.requests if r.route == "state"]
    assert sent.count(f"Bearer {first.value}") == 50  # each met 1001 once, then...
    assert sent.count(f"Bearer {secret.token}") == 51  # ...went again with the new token
    assert emulator.count("token") == 0  # never an anonymous token


async def test_a_provider_still_giving_the_expired_token_fails_clearly(
    emulator: Emulator,
) -> None:
    first = emulator.store.issue_token()
    secret = RotatingSecret(first.value)
    async with await fleet_client(secret, base_url=emulator.url, retry=FAST_RETRY) as nemo:
        emulator.store.expire(first.value)  # revoked, and the store was not updated yet
        with pytest.raises(errors.AuthenticationError) as caught:
            await nemo.sessions.create()
    assert secret.asked == 2  # asked again once, not in a loop
    assert first.value not in str(caught.value) and first.value not in repr(caught.value)
    assert emulator.count("token") == 0


async def test_a_plain_token_is_still_never_renewed(emulator: Emulator) -> None:
    token = emulator.issue_token()
    async with NemoClient(token=token, base_url=emulator.url, retry=FAST_RETRY) as nemo:
        emulator.store.expire(token)
        with pytest.raises(errors.AuthenticationError):
            await nemo.sessions.create()
    assert emulator.count("token") == 0


async def test_anonymous_client_is_refused_for_shared_work(emulator: Emulator) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY) as nemo:
        with pytest.raises(errors.ConfigurationError, match="registered token"):
            require_shared_identity(nemo)
    assert not emulator.requests  # refused before any work


def test_import_nemo_sdk_does_not_import_temporalio() -> None:
    code = "import sys, nemo_sdk, nemo_sdk.fleet; print('temporalio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
