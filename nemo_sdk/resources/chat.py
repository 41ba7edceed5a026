"""``nemo.chat``: one message to the agent over ``POST /run_sse``, as typed events or a reply.

Every stream rule of API.md "POST /run_sse" lives here:

* the draft is read before the message is sent, so that a reply with no text
  (about 30% of edits) can be summarised from the draft's diff afterwards;
* a stream that drops (not a clean close), carries only heartbeats (or nothing) for
  ``heartbeat_timeout`` or runs past ``overall_cap`` is recovered by reading the
  state (``_chat_recovery``), never by sending the message again; so is a turn
  whose stream never started once the message may have reached the server (no
  answer before the idle timeout, a connection cut before the headers);
* silence is normal: an ADK server sends no keep-alives while a tool runs (100–300 s),
  so the stream's idle timeout is never shorter than ``heartbeat_timeout``;
* a turn the server reports as failed (an ADK error event) raises ``ChatTurnError``
  once the stream ends: not recovered, never re-sent;
* ``on_still_working`` fires every ``still_working_every`` seconds of the turn.

Reads keep one pending task and wait on it with ``asyncio.wait``, not
``asyncio.wait_for``: on Python 3.10/3.11 ``wait_for`` returns the result when a
cancel arrives as the read completes, and a cancel must always be a cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from types import TracebackType
from typing import Any

import attrs

from .. import errors
from .._chat.events import ChatEvent, Heartbeat
from .._chat.handlers import (
    EventHandler,
    dispatch,
    dispatch_end,
    dispatch_reply_text,
    merge_handlers,
)
from .._chat.handlers import dispatch_still_working as _still_working
from .._chat.parser import parse_event
from .._chat.recovery import recover
from .._chat.reply import ChatReply
from .._chat.text import ReplyBuilder
from .._http import Response, Transport, check_id
from .._http.response_info import answered_by
from .._http.telemetry import Turn, chat_turn
from ..config import ChatSettings, Timeouts
from ..models.draft import Draft
from ..sse import SSEDecoder
from ..timeline import diff_drafts
from ._base import Resource
from .state import StateResource

APP_NAME = "nemo_agent"


def request_body(session_id: str, text: str, *, streaming: bool = False) -> dict[str, Any]:
    """The ``/run_sse`` body, exactly as API.md gives it (snake_case).

    ``streaming`` adds ``"streaming": true`` (ADK's ``RunAgentRequest`` field): each
    model turn then comes as ``partial`` pieces before the whole turn.
    """
    body: dict[str, Any] = {
        "app_name": APP_NAME,
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": text}]},
    }
    if streaming:
        body["streaming"] = True
    return body


def stream_timeout(timeouts: Timeouts, settings: ChatSettings) -> Timeouts:
    """The chat stream's timeouts: an idle limit never shorter than ``heartbeat_timeout``.

    An ADK server sends nothing while a tool runs (a generation takes 100–300 s):
    silence up to ``heartbeat_timeout`` is normal, and the turn's own timers (not
    the socket) decide when it is too long.
    """
    read = timeouts.read
    if read is not None:
        read = max(read, settings.heartbeat_timeout)
    return attrs.evolve(timeouts, read=read, total=None)


class ChatStream:
    """One chat turn's events: ``async with`` it, then ``async for`` over it (once).

    Entering sends the message (after reading the draft); leaving closes the
    connection, even mid-stream. Iterate either the typed events or
    :meth:`text_deltas` (the new reply text only). Once the iteration ends,
    :attr:`reply` holds the turn's :class:`ChatReply`. If the stream dropped (or
    never started after the message went out) and the draft did not change while
    the state was watched, the iteration raises ``StreamInterrupted``; if the
    server reported that the turn failed, ``ChatTurnError``.
    """

    def __init__(
        self,
        transport: Transport,
        session_id: str,
        text: str,
        *,
        handlers: Sequence[EventHandler],
        settings: ChatSettings,
        strict: bool,
        streaming: bool = False,
    ) -> None:
        self.session_id = session_id
        self._transport = transport
        self._text = text
        self._handlers = list(handlers)
        self._settings = settings
        self._strict = strict
        self._streaming = streaming
        self._state = StateResource(transport)
        self._builder = ReplyBuilder()
        self._stack = contextlib.AsyncExitStack()
        self._response: Response | None = None
        self._iterator: AsyncGenerator[ChatEvent, None] | None = None
        self._lost: errors.APIConnectionError | None = None  # the stream never started
        self._before: Draft | None = None
        self._started = 0.0
        self._notice_at = settings.still_working_every  # seconds into the turn
        self._reply: ChatReply | None = None
        self._new_text = ""  # the reply text the event just yielded added
        self._span_name = "chat.stream"  # ``chat.send`` when send() runs the turn
        self._turn: Turn | None = None  # the turn's span, when tracing is on

    @property
    def received(self) -> list[ChatEvent]:
        """Every event received so far, in order."""
        return self._builder.events

    @property
    def reply(self) -> ChatReply:
        """The turn's reply; available once the iteration has ended."""
        if self._reply is None:
            raise RuntimeError("the chat stream has not ended yet: iterate it to the end first")
        return self._reply

    async def __aenter__(self) -> ChatStream:
        self._turn = chat_turn(self._span_name, self.session_id)
        if self._turn is None:
            return await self._open()
        try:
            return await self._open()
        except BaseException as exc:
            self._turn.end(exc)
            raise

    async def _open(self) -> ChatStream:
        # The draft before the message: the no-text and drop rules diff against it.
        self._before = (await self._state.get(self.session_id)).draft
        # The server's work may start as soon as the request is out, so the turn's clock
        # (still-working notices, cap, recovery) starts here, not at the first byte.
        self._started = asyncio.get_running_loop().time()
        try:
            self._response = await self._stack.enter_async_context(
                self._transport.stream(
                    "POST",
                    "/run_sse",
                    json=request_body(self.session_id, self._text, streaming=self._streaming),
                    headers={"Accept": "text/event-stream"},
                    # Once the server accepted the message, sending it again would apply
                    # the edit twice and charge twice: only the pre-stream rules (429,
                    # 1001) retry.
                    idempotent=False,
                    expect_content_type="text/event-stream",
                    timeout=stream_timeout(self._transport.config.timeouts, self._settings),
                )
            )
        except errors.APIConnectionError as exc:
            if not exc.request_sent:
                raise type(exc)(f"{exc}; the message was not sent", request_sent=False) from exc
            # No answer, or a broken one, after the message went out: the service may be
            # working on it, so this is a lost stream like any other (API.md "POST
            # /run_sse"): the iteration watches the state, and nothing is re-sent.
            self._lost = exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._iterator is not None:
                await self._iterator.aclose()
        finally:
            await self._stack.aclose()
            if self._turn is not None:
                self._turn.end(exc, self._response, self._reply)

    def __aiter__(self) -> AsyncIterator[ChatEvent]:
        if self._response is None and self._lost is None:
            raise RuntimeError("use `async with nemo.chat.stream(...) as events` first")
        if self._iterator is not None:
            raise RuntimeError("a chat stream can be iterated only once")
        self._iterator = self._events(self._response)
        return self._iterator

    async def text_deltas(self) -> AsyncIterator[str]:
        """Iterate the turn as new reply text only: each piece once, whatever the wire
        shape and mode (ADK's partial pieces and their final, text sharing an event
        with a tool call, flat pieces). Joined, the pieces are the reply's text.

        Use it instead of iterating the events (a stream is iterated once); handlers
        still see every event.
        """
        async for _ in self:
            if self._new_text:
                yield self._new_text

    async def _events(self, response: Response | None) -> AsyncGenerator[ChatEvent, None]:
        settings = self._settings
        loop = asyncio.get_running_loop()
        decoder = SSEDecoder()
        builder = self._builder
        last_activity = self._started  # the last event that was not a keep-alive
        reason: str | None = None
        cause: BaseException | None = self._lost
        if self._lost is not None:
            reason = f"it never started: {self._lost}"
        read: asyncio.Task[bytes] | None = None  # kept across timer wake-ups: no data lost
        try:
            while reason is None:
                assert response is not None
                now = loop.time()
                wake = min(
                    self._started + self._notice_at,
                    self._started + settings.overall_cap,
                    last_activity + settings.heartbeat_timeout,
                )
                if read is None:
                    read = asyncio.ensure_future(response.read_some())
                # Not ``wait_for``: see the module docstring. A cancel raises here, always.
                done, _ = await asyncio.wait((read,), timeout=max(0.0, wake - now))
                chunk: bytes | None = None  # None: a timer is due
                if done:
                    finished, read = read, None
                    try:
                        chunk = finished.result()
                    except errors.APIConnectionError as exc:
                        # A drop (or the idle timeout), not a clean close: the server may
                        # still be applying the edit, so the state tells what happened.
                        reason = f"the stream broke ({exc})"
                        cause = exc
                        break
                if chunk == b"":
                    decoder.flush()
                    break  # a clean close is the end of the reply: there is no "done" event
                if chunk:
                    for sse in decoder.feed(chunk):
                        for parsed in parse_event(sse, strict=self._strict):
                            if type(parsed) is not Heartbeat:
                                last_activity = loop.time()
                            for event in builder.add(parsed):
                                await self._accept(event, builder.new_text)
                                yield event
                    for _ in range(decoder.keepalives):
                        heartbeat = Heartbeat()
                        builder.add(heartbeat)
                        await self._accept(heartbeat, "")
                        yield heartbeat
                now = loop.time()
                await self._notify_until(now - self._started)
                if now >= self._started + settings.overall_cap:
                    reason = f"it ran past the {settings.overall_cap:g} s cap"
                elif now >= last_activity + settings.heartbeat_timeout:
                    reason = (
                        f"only heartbeats, or nothing, came for {settings.heartbeat_timeout:g} s"
                    )
        finally:
            if read is not None:
                await _discard(read)
        # Provisional tool calls that no final event replaced: the turn is over.
        for event in builder.release():
            await self._accept(event, "")
            yield event
        if builder.error is not None:
            # The server said the turn failed: that is the answer, whether or not the
            # stream then closed cleanly. Nothing is watched and nothing re-sent.
            if response is not None:
                response.close()
            reply = await self._finish(quiet=True)
            self._reply = answered_by(reply, response)
            raise errors.ChatTurnError(
                builder.error.code, builder.error.message, reply=reply
            ) from cause
        if reason is None:
            reply = await self._finish()
        else:
            if response is not None:
                response.close()  # nothing more will be read; free the connection meanwhile
            reply = await recover(
                self._state,
                self.session_id,
                self._before,
                builder,
                reason=reason,
                settings=settings,
                elapsed=loop.time() - self._started,
                sleep=self._sleep_noting,
                cause=cause,
            )
        self._reply = answered_by(reply, response)
        await dispatch_end(self._handlers, reply)

    async def _accept(self, event: ChatEvent, new_text: str) -> None:
        self._new_text = new_text
        if self._turn is not None:
            self._turn.event(event)
        if self._handlers:
            await dispatch(self._handlers, event)
            if new_text:
                await dispatch_reply_text(self._handlers, new_text)

    async def _notify_until(self, elapsed: float) -> None:
        """Fire ``on_still_working`` if its time, ``elapsed`` seconds into the turn, has come."""
        if elapsed >= self._notice_at:
            every = self._settings.still_working_every
            # Once, however late: a burst of notices would say nothing more.
            self._notice_at += every * (1 + (elapsed - self._notice_at) // every)
            if self._handlers:
                await _still_working(self._handlers, elapsed)

    async def _sleep_noting(self, seconds: float, elapsed: float) -> float:
        """Sleep ``seconds`` from ``elapsed`` into the turn, with the still-working notices."""
        end = elapsed + seconds
        while self._notice_at <= end:
            await self._transport.sleep(max(0.0, self._notice_at - elapsed))
            elapsed = self._notice_at
            await self._notify_until(elapsed)
        await self._transport.sleep(max(0.0, end - elapsed))
        return end

    async def _finish(self, *, quiet: bool = False) -> ChatReply:
        """The reply, with the draft's diff; ``quiet``: a failed state read leaves the diff out."""
        builder = self._builder
        # Read after every turn: about 30% of edits end with no text, and the diff is
        # then the only account of what happened (API.md, "POST /run_sse").
        try:
            after = (await self._state.get(self.session_id)).draft
        except errors.NemoError:
            if not quiet:
                raise
            after = self._before
        return builder.reply(self.session_id, diff_drafts(self._before, after))


async def _discard(read: asyncio.Task[bytes]) -> None:
    """Cancel a read nobody will use, and wait for it (a cancel of ours still propagates)."""
    read.cancel()
    await asyncio.wait((read,))
    if not read.cancelled():
        read.exception()  # retrieved: a failed read of an abandoned stream is no news


class Chat(Resource):
    """Chat calls: :meth:`send` for a reply, :meth:`stream` for the events as they come."""

    def stream(
        self,
        session_id: str,
        text: str,
        *,
        handler: EventHandler | None = None,
        handlers: Sequence[EventHandler] = (),
        settings: ChatSettings | None = None,
        strict: bool = False,
        streaming: bool = False,
    ) -> ChatStream:
        """Send ``text`` to the agent; ``async with`` the result and iterate its typed events.

        ``handler``/``handlers`` see every event before it is yielded; ``settings``
        overrides the client's :class:`~nemo_sdk.ChatSettings` for this turn;
        ``strict`` raises ``EventParseError`` on malformed event JSON instead of
        yielding an ``UnknownEvent``; ``streaming`` asks the server to stream each
        model turn in pieces (``"streaming": true``; off by default, as in the
        vendor's documents). The arguments are checked before anything is sent.
        """
        sid = check_id("session id", session_id)
        if not isinstance(text, str) or not text.strip():
            raise errors.InvalidArgument("the message text must be a non-empty string")
        return ChatStream(
            self._transport,
            sid,
            text,
            handlers=merge_handlers(handler, handlers),
            settings=settings or self._transport.config.chat,
            strict=strict,
            streaming=bool(streaming),
        )

    async def send(
        self,
        session_id: str,
        text: str,
        *,
        handler: EventHandler | None = None,
        handlers: Sequence[EventHandler] = (),
        settings: ChatSettings | None = None,
        strict: bool = False,
        streaming: bool = False,
    ) -> ChatReply:
        """Send ``text`` to the agent and wait for the whole reply (arguments as :meth:`stream`).

        Raises ``StreamInterrupted`` when the stream dropped and the draft did not
        change while the state was watched, ``ChatTurnError`` when the server reported
        that the turn failed; the message is never sent twice.
        """
        events = self.stream(
            session_id,
            text,
            handler=handler,
            handlers=handlers,
            settings=settings,
            strict=strict,
            streaming=streaming,
        )
        events._span_name = "chat.send"
        async with events:
            async for _ in events:
                pass
        return events.reply


__all__ = ["Chat", "ChatStream", "request_body", "stream_timeout"]
