"""OpenTelemetry spans of requests, chat turns and workflows, read from the SDK's in-memory
exporter after real calls to the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from tests.otel.conftest import NO_OTEL_SDK

pytest.importorskip("opentelemetry.sdk", reason=NO_OTEL_SDK)

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

from nemo_sdk import ChatTurnError, NemoClient, NotFoundError, SessionNotFoundError
from nemo_sdk.emulator import Emulator
from tests.conftest import FAST_RETRY

pytestmark = pytest.mark.otel

DRAFT = {"t": [{"tt": 0, "sg": [{"d": 1000, "m": {"name": "x"}}]}]}


def _named(finished: Iterable[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in finished if s.name == name]


def _one(finished: Iterable[ReadableSpan], name: str) -> ReadableSpan:
    (span,) = _named(finished, name)
    return span


def _children(finished: Iterable[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    found = [s for s in finished if s.parent is not None]
    return sorted(
        (s for s in found if s.parent.span_id == parent.context.span_id),  # type: ignore[union-attr]
        key=lambda s: s.start_time or 0,
    )


def _requests(spans: Iterable[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if s.kind is SpanKind.CLIENT]


def _paths(spans: Iterable[ReadableSpan]) -> list[str]:
    return [
        f"{s.attributes['http.request.method']} {str(s.attributes['url.full']).split('/', 3)[3]}"
        for s in _requests(spans)
        if s.attributes is not None
    ]


def _texts(finished: Sequence[ReadableSpan]) -> list[str]:
    """Every string a span exports: names, attribute values, events, status descriptions."""
    out: list[str] = []
    for s in finished:
        out += [s.name, str(s.status.description)]
        out += [str(v) for v in (s.attributes or {}).values()]
        for event in s.events:
            out += [event.name, *(str(v) for v in (event.attributes or {}).values())]
    return out


def _token(nemo: NemoClient) -> str:
    token = nemo._transport.tokens.current
    assert token
    return token


@pytest.mark.slow(seconds=5)
async def test_generate_and_export_is_a_span_per_phase_with_the_ids_and_the_requests_under_them(
    client: NemoClient, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    with trace.get_tracer("app").start_as_current_span("the app's job") as job:
        result = await client.generate_and_export("a sunset", tmp_path / "s.mp4")
    finished = spans.get_finished_spans()

    root = _one(finished, "nemo.generate_and_export")
    assert root.parent is not None and root.parent.span_id == job.get_span_context().span_id
    assert root.attributes == {
        "nemo.session_id": result.session_id,
        "nemo.render_id": result.render.id,
    }
    phases = {s.name: s for s in _children(finished, root) if s.name.startswith("nemo.")}
    assert list(phases) == [
        "nemo.connecting",
        "nemo.session",
        "nemo.generating",
        "nemo.rendering",
        "nemo.downloading",
    ]
    assert phases["nemo.session"].attributes == {"nemo.session_id": result.session_id}
    assert phases["nemo.generating"].attributes == {"nemo.session_id": result.session_id}
    for name in ("nemo.rendering", "nemo.downloading"):
        assert phases[name].attributes == {
            "nemo.session_id": result.session_id,
            "nemo.render_id": result.render.id,
        }

    sid, rid = result.session_id, result.render.id
    assert _paths(_children(finished, phases["nemo.connecting"])) == [
        "POST api/auth/anonymous-token",
        "GET api/credits/balance/simple",
    ]
    # The balance read after the file is placed: under the run, in no phase.
    assert _paths(_children(finished, root)) == ["GET api/credits/balance/simple"]
    assert _paths(_children(finished, phases["nemo.session"])) == [
        "POST api/tasks/me/with-session/nemo_agent"
    ]
    (chat,) = _children(finished, phases["nemo.generating"])[:1]
    assert chat.name == "chat.send"
    assert _paths(_children(finished, chat)) == [
        f"GET api/state/nemo_agent/me/{sid}/latest",
        "POST run_sse",
        f"GET api/state/nemo_agent/me/{sid}/latest",
    ]
    rendering = _paths(_children(finished, phases["nemo.rendering"]))
    assert rendering[0] == "POST api/render/proxy/lambda"
    assert set(rendering[1:]) == {f"GET api/render/proxy/lambda/{rid}"}
    downloads = _requests(_children(finished, phases["nemo.downloading"]))
    assert downloads and all(s.attributes["http.request.method"] == "GET" for s in downloads)  # type: ignore[index]

    for request in _requests(finished):
        attributes = request.attributes or {}
        assert attributes["http.response.status_code"] == 200
        assert attributes["server.address"] == "127.0.0.1"
        assert isinstance(attributes["server.port"], int)
        assert "?" not in str(attributes["url.full"])
        assert str(attributes["nemo.request_id"]).startswith("req_")
        assert "error.type" not in attributes and "http.request.resend_count" not in attributes
        assert request.status.status_code is StatusCode.UNSET
    # A fixed path names its span; a path with an id is the method alone (low cardinality).
    names = {s.name for s in _requests(finished)}
    assert {"POST /api/tasks/me/with-session/nemo_agent", "POST /run_sse", "GET"} <= names
    token = _token(client)
    assert not [text for text in _texts(finished) if token in text]


async def test_a_retried_request_is_one_span_per_attempt_with_the_resend_count(
    client: NemoClient, emulator: Emulator, spans: InMemorySpanExporter
) -> None:
    await client.credits.balance()  # the token first: only the balance is retried below
    spans.clear()
    emulator.faults.add("credits", "429", times=1, retry_after="0")

    await client.credits.balance()

    first, second = spans.get_finished_spans()
    assert first.name == second.name == "GET /api/credits/balance/simple"
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["http.response.status_code"] == 429
    assert first.attributes["error.type"] == "429"
    assert first.status.status_code is StatusCode.ERROR
    assert "http.request.resend_count" not in first.attributes
    assert second.attributes["http.response.status_code"] == 200
    assert second.attributes["http.request.resend_count"] == 1
    assert "error.type" not in second.attributes
    assert first.attributes["nemo.request_id"] != second.attributes["nemo.request_id"]


async def test_failures_carry_error_type_the_status_or_the_error_class(
    client: NemoClient, emulator: Emulator, spans: InMemorySpanExporter
) -> None:
    session = await client.sessions.create()
    spans.clear()
    with pytest.raises(NotFoundError):
        await client.renders.get("render_nope")
    (missing,) = spans.get_finished_spans()
    assert missing.attributes is not None
    assert missing.attributes["http.response.status_code"] == 404
    assert missing.attributes["error.type"] == "404"
    assert missing.status.status_code is StatusCode.ERROR

    # An error code inside an HTTP 200 envelope: the error's class.
    spans.clear()
    emulator.faults.add("state", "1002")
    with pytest.raises(SessionNotFoundError):
        await client.state.get(session.id)
    (refused,) = spans.get_finished_spans()
    assert refused.attributes is not None
    assert refused.attributes["http.response.status_code"] == 200
    assert refused.attributes["error.type"] == "SessionNotFoundError"
    assert refused.status.status_code is StatusCode.ERROR

    # No HTTP status at all: the connection dropped mid-answer on each attempt.
    spans.clear()
    emulator.faults.add("state", "drop", times=None)
    with pytest.raises(Exception) as caught:
        await client.state.get(session.id)
    emulator.faults.clear()
    attempts = spans.get_finished_spans()
    assert len(attempts) >= 2  # a GET is retried
    for n, attempt in enumerate(attempts):
        assert attempt.attributes is not None
        assert attempt.attributes["error.type"] == type(caught.value).__qualname__
        assert "http.response.status_code" not in attempt.attributes
        assert attempt.attributes.get("http.request.resend_count", 0) == n
    assert not [text for text in _texts(attempts) if _token(client) in text]


async def test_a_chat_turn_records_its_events_by_name_only(
    client: NemoClient, spans: InMemorySpanExporter
) -> None:
    session = await client.sessions.create()
    spans.clear()
    secret_words = "a purple elephant called Zorblax"

    reply = await client.chat.send(session.id, f"generate {secret_words}")

    finished = spans.get_finished_spans()
    turn = _one(finished, "chat.send")
    assert turn.attributes is not None
    assert turn.attributes["nemo.session_id"] == session.id
    assert str(turn.attributes["nemo.request_id"]).startswith("req_")
    assert turn.attributes["nemo.draft_changed"] is reply.draft_changed is True
    assert [e.name for e in turn.events] == [type(e).__name__ for e in reply.events]
    assert {"ToolCall", "ToolResult"} <= {e.name for e in turn.events}
    assert all(not e.attributes for e in turn.events)
    assert not [t for t in _texts(finished) if "Zorblax" in t or "elephant" in t]
    run_sse = _one(finished, "POST /run_sse")
    assert run_sse.parent is not None and run_sse.parent.span_id == turn.context.span_id  # type: ignore[union-attr]

    spans.clear()
    async with client.chat.stream(session.id, "make it blue") as events:
        async for _ in events:
            pass
    assert _one(spans.get_finished_spans(), "chat.stream").events


async def test_a_failed_chat_turn_ends_its_span_with_the_error(
    client: NemoClient, emulator: Emulator, spans: InMemorySpanExporter
) -> None:
    session = await client.sessions.create()
    spans.clear()
    emulator.faults.add("chat", "turn_error", code="MODEL_RETURNED_NO_CONTENT")
    with pytest.raises(ChatTurnError):
        await client.chat.send(session.id, "generate a fox")
    turn = _one(spans.get_finished_spans(), "chat.send")
    assert turn.attributes is not None and turn.attributes["error.type"] == "ChatTurnError"
    assert turn.status.status_code is StatusCode.ERROR


@pytest.mark.slow(seconds=13)
async def test_iterate_and_batch_trace_their_runs_and_items(
    client: NemoClient, emulator: Emulator, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    session = await client.sessions.create()
    emulator.set_draft(session.id, DRAFT)
    spans.clear()
    await client.iterate(session.id, "make it blue", export=True, out=tmp_path / "i.mp4")
    finished = spans.get_finished_spans()
    root = _one(finished, "nemo.iterate")
    assert [s.name for s in _children(finished, root)] == [
        "nemo.generating",
        "nemo.rendering",
        "nemo.downloading",
    ]

    spans.clear()
    results = await client.batch(["a fox", "a cat"], out_dir=tmp_path, concurrency=2)
    assert all(r.ok for r in results)
    finished = spans.get_finished_spans()
    batch = _one(finished, "nemo.batch")
    items = _children(finished, batch)
    assert [s.name for s in items] == ["nemo.batch_item"] * 2
    assert sorted(s.attributes["nemo.item"] for s in items) == [0, 1]  # type: ignore[index]
    for item in items:
        assert [s.name for s in _children(finished, item)] == [
            "nemo.session",
            "nemo.generating",
            "nemo.rendering",
            "nemo.downloading",
        ]


async def test_a_cancelled_workflow_ends_its_spans(
    client: NemoClient, emulator: Emulator, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    emulator.faults.add("chat", "silent", seconds=1.5)
    task = asyncio.ensure_future(client.generate_and_export("a fox", tmp_path / "f.mp4"))
    for _ in range(500):
        if _named(spans.get_finished_spans(), "nemo.session"):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    finished = spans.get_finished_spans()
    for name in ("nemo.generate_and_export", "nemo.generating", "chat.send"):
        assert _one(finished, name).attributes["error.type"] == "CancelledError"  # type: ignore[index]
    # The context is back to what it was: a new span here has no SDK parent.
    with trace.get_tracer("app").start_as_current_span("after") as after:
        assert after.parent is None  # type: ignore[attr-defined]


def test_the_sync_clients_spans_nest_under_the_calling_threads_span(
    spans: InMemorySpanExporter,
) -> None:
    from nemo_sdk.emulator.threaded import emulator_in_thread
    from nemo_sdk.sync import NemoClient as SyncClient

    with (
        emulator_in_thread() as emu,
        SyncClient(base_url=emu.url, retry=FAST_RETRY) as nemo,
        trace.get_tracer("app").start_as_current_span("a view") as view,
    ):
        nemo.credits.balance()
    requests = _requests(spans.get_finished_spans())
    assert [s.name for s in requests] == [
        "POST /api/auth/anonymous-token",
        "GET /api/credits/balance/simple",
    ]
    for request in requests:
        assert request.parent is not None
        assert request.parent.span_id == view.get_span_context().span_id


def test_a_sync_chat_stream_ends_its_span_without_context_errors(
    spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    # The sync facade enters and leaves the stream in two calls on its loop (two tasks).
    from nemo_sdk.emulator.threaded import emulator_in_thread
    from nemo_sdk.sync import NemoClient as SyncClient

    with emulator_in_thread() as emu, SyncClient(base_url=emu.url, retry=FAST_RETRY) as nemo:
        session = nemo.sessions.create()
        with nemo.chat.stream(session.id, "generate a fox") as events:
            assert list(events)
    turn = _one(spans.get_finished_spans(), "chat.stream")
    assert turn.events and "error.type" not in (turn.attributes or {})
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry")]
