"""OpenTelemetry spans for requests, chat turns and workflow phases (the ``otel`` extra).

The SDK never imports ``opentelemetry`` itself. Tracing is on once the application
has imported ``opentelemetry.trace`` (which setting a tracer provider does): until
then every hook below is one dictionary lookup that finds nothing, and ``import
nemo_sdk`` or a request loads nothing of OpenTelemetry. Spans go to the global
tracer provider, under the tracer ``nemo_sdk``.

* a request attempt: a CLIENT span after the HTTP client semantic conventions
  (``http.request.method``, ``url.full`` without its query, ``server.address``,
  ``server.port``, ``http.response.status_code``, ``error.type``,
  ``http.request.resend_count``) and ``nemo.request_id``;
* a chat turn: ``chat.send`` or ``chat.stream``, its events as span events (the
  event's class name only: no text, no arguments);
* a workflow: ``nemo.<workflow>``, with a span per phase (``nemo.session``,
  ``nemo.generating``, ``nemo.rendering``, ``nemo.downloading``) carrying
  ``nemo.session_id`` and ``nemo.render_id`` once known.

What a span records is names, ids, statuses and URLs without their query (a signed
URL's query is a credential); never a header, a body or the token.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from yarl import URL

from .._util.logging import redact
from .._version import __version__
from .envelope import request_id_of

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer

T = TypeVar("T")

_TRACE_MODULE = "opentelemetry.trace"
_tracer: Tracer | None = None


def tracer() -> Tracer | None:
    """The SDK's tracer, or ``None`` while the application has not imported OpenTelemetry."""
    global _tracer
    if _tracer is None and _TRACE_MODULE in sys.modules:
        from opentelemetry import trace

        # Before a provider is set this is a proxy that follows the one set later.
        _tracer = trace.get_tracer("nemo_sdk", __version__)
    return _tracer


def _error(span: Span, kind: str, exc: BaseException | None = None) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", kind)
    # The SDK's messages are redacted where they are made; redacted again, in case.
    described = None if exc is None else redact(f"{type(exc).__name__}: {exc}")[:300]
    span.set_status(Status(StatusCode.ERROR, described))


def _failed(span: Span, exc: BaseException) -> None:
    """``error.type``: the HTTP status when the server answered one >= 400, else the class."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status > 0:
        span.set_attribute("http.response.status_code", status)
    request_id = getattr(exc, "request_id", None)
    if isinstance(request_id, str) and request_id:
        span.set_attribute("nemo.request_id", request_id)
    kind = str(status) if isinstance(status, int) and status >= 400 else type(exc).__qualname__
    _error(span, kind, exc)


# ---------------------------------------------------------------- one HTTP attempt


@contextmanager
def http_span(
    tracer: Tracer, method: str, url: URL, template: str | None, resend_count: int
) -> Iterator[Span]:
    """A CLIENT span around one HTTP attempt; the caller reports the answer with
    :func:`answered`; an exception leaving the block sets ``error.type`` and the status."""
    from opentelemetry.trace import SpanKind

    attributes: dict[str, Any] = {
        "http.request.method": method,
        # No query (a signed URL's is a credential), fragment or user info.
        "url.full": str(url.with_query(None).with_fragment(None).with_user(None)),
        "server.address": url.raw_host or "",
    }
    if url.port is not None:
        attributes["server.port"] = url.port
    if template is not None:
        attributes["url.template"] = template
    if resend_count:
        attributes["http.request.resend_count"] = resend_count
    name = f"{method} {template}" if template is not None else method
    with tracer.start_as_current_span(
        name,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,  # a traceback's text is not ours to vouch for
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            _failed(span, exc)
            raise


def answered(span: Span, status: int, headers: Mapping[str, str]) -> None:
    """Record the answer of an attempt: its status and request id (no other header)."""
    span.set_attribute("http.response.status_code", status)
    request_id = request_id_of(headers)
    if request_id is not None:
        span.set_attribute("nemo.request_id", request_id)
    if status >= 400:
        _error(span, str(status))


class _Traced(Generic[T]):
    """``send`` with a span per call (one call is one attempt; the n-th is resend n-1)."""

    __slots__ = ("method", "resends", "send", "template", "tracer", "url")

    def __init__(
        self,
        tracer: Tracer,
        send: Callable[..., Awaitable[T]],
        method: str,
        url: URL,
        template: str | None,
    ) -> None:
        self.tracer = tracer
        self.send = send
        self.method = method
        self.url = url
        self.template = template
        self.resends = -1

    async def __call__(self, *args: Any) -> T:
        self.resends += 1
        with http_span(self.tracer, self.method, self.url, self.template, self.resends) as span:
            result = await self.send(*args)
            # A whole-body call returns (document, ResponseInfo); a stream, its Response.
            answer: Any = result[1] if isinstance(result, tuple) else result
            answered(span, answer.status, answer.headers)
            return result


def traced_attempts(
    send: Callable[..., Awaitable[T]], method: str, url: URL, template: str | None = None
) -> Callable[..., Awaitable[T]]:
    """``send`` (one HTTP attempt per call) with a span per attempt; ``send`` itself when
    tracing is off, so that an untraced request pays nothing more.

    The request seam of the transport: wrap the attempt function of one call, once.
    ``template``: the path when it holds no id (the span is then ``"POST /api/..."``).
    """
    t = tracer()
    if t is None:
        return send
    return _Traced(t, send, method, url, template)


# ---------------------------------------------------------------- a chat turn


class Turn:
    """A chat turn's span, current from the stream's ``__aenter__`` to its ``__aexit__``.

    Current in the task that entered the stream: the requests made there (the draft
    read, ``/run_sse``) are its children. When the stream is left from another task (the
    sync client enters and leaves in two calls), that task never saw it current, and
    the entering task's context went with that task: there is nothing to detach.
    """

    __slots__ = ("_task", "_token", "span")

    def __init__(self, tracer: Tracer, name: str, session_id: str) -> None:
        from opentelemetry import context, trace

        self.span = tracer.start_span(name, attributes={"nemo.session_id": session_id})
        self._token = context.attach(trace.set_span_in_context(self.span))
        self._task = asyncio.current_task()

    def event(self, event: object) -> None:
        """One chat event, by its class name only (never its text or arguments)."""
        self.span.add_event(type(event).__name__)

    def end(
        self,
        exc: BaseException | None,
        response: Any = None,
        reply: Any = None,
    ) -> None:
        """End the span: the stream's request id, the reply's flags, or the error."""
        from opentelemetry import context

        span = self.span
        if response is not None:
            request_id = request_id_of(response.headers)
            if request_id is not None:
                span.set_attribute("nemo.request_id", request_id)
        if reply is not None:
            span.set_attribute("nemo.draft_changed", bool(reply.draft_changed))
            span.set_attribute("nemo.interrupted", bool(reply.interrupted))
        if exc is not None:
            _error(span, type(exc).__qualname__, exc)
        if asyncio.current_task() is self._task:
            context.detach(self._token)
        span.end()


def chat_turn(name: str, session_id: str) -> Turn | None:
    """A started, current chat-turn span; ``None`` when tracing is off."""
    t = tracer()
    return None if t is None else Turn(t, name, session_id)


# ---------------------------------------------------------------- workflow phases


class Phases:
    """A workflow's root span and its current phase's span, moved along by the progress.

    Each phase span is a child of the root and current (so the requests of the phase
    nest under it) until the next phase, ``done``, or the end of the workflow.
    """

    def __init__(self, tracer: Tracer | None, name: str) -> None:
        self._tracer = tracer
        self._name = name
        self._root: Span | None = None
        self._root_context: Context | None = None
        self._root_token: object = None
        self._phase: str | None = None
        self._span: Span | None = None
        self._token: object = None
        self._task: asyncio.Task[Any] | None = None

    def at(
        self,
        phase: str,
        session_id: str | None = None,
        render_id: str | None = None,
        item: int | None = None,
    ) -> None:
        """The workflow is in ``phase`` (``done`` ends the phases) with these ids."""
        if self._root is None:
            return
        ids = (session_id, render_id, item)
        _tag(self._root, *ids)
        _tag(self._span, *ids)  # the phase ending now learnt them (a new session's id)
        if phase != self._phase and asyncio.current_task() is self._task:
            # Only the workflow's own task moves the phase: the context it attaches
            # must be detached in the same task (a callback elsewhere only adds ids).
            self._close_phase(None)
            self._phase = phase
            if phase != "done":
                self._open_phase(phase)
                _tag(self._span, *ids)

    def _open_phase(self, phase: str) -> None:
        from opentelemetry import context, trace

        assert self._tracer is not None
        self._span = self._tracer.start_span(f"nemo.{phase}", context=self._root_context)
        self._token = context.attach(trace.set_span_in_context(self._span))

    def _close_phase(self, exc: BaseException | None) -> None:
        if self._span is None:
            return
        from opentelemetry import context

        if exc is not None:
            _error(self._span, type(exc).__qualname__, exc)
        context.detach(self._token)  # type: ignore[arg-type]
        self._span.end()
        self._span = None

    async def __aenter__(self) -> Phases:
        if self._tracer is None:
            return self
        from opentelemetry import context, trace

        self._task = asyncio.current_task()
        self._root = self._tracer.start_span(f"nemo.{self._name}")
        self._root_context = trace.set_span_in_context(self._root)
        self._root_token = context.attach(self._root_context)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._root is None:
            return
        from opentelemetry import context

        self._close_phase(exc)
        if exc is not None:
            _error(self._root, type(exc).__qualname__, exc)
        context.detach(self._root_token)  # type: ignore[arg-type]
        self._root.end()
        self._root = None


def _tag(
    span: Span | None, session_id: str | None, render_id: str | None, item: int | None
) -> None:
    if span is None:
        return
    if session_id is not None:
        span.set_attribute("nemo.session_id", session_id)
    if render_id is not None:
        span.set_attribute("nemo.render_id", render_id)
    if item is not None:
        span.set_attribute("nemo.item", item)


def workflow(name: str) -> Phases:
    """``async with`` it around a workflow run: its root span ``nemo.<name>`` and phases."""
    return Phases(tracer(), name)


NO_PHASES = Phases(None, "")
"""A workflow run's phases before (or without) :func:`workflow`: every call does nothing."""
