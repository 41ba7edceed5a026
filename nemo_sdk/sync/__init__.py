"""The same client for sync code: ``from nemo_sdk.sync import NemoClient``.

For Django views, Flask apps, Celery tasks, scripts and notebooks::

    from nemo_sdk.sync import NemoClient

    with NemoClient() as nemo:
        result = nemo.generate_and_export("a sunset over the ocean", out="sunset.mp4")

Every resource, method and workflow of :class:`nemo_sdk.NemoClient` is here, with the
same arguments and return types, minus the ``await``. It wraps the async client and
runs it on one private event loop in a daemon thread per client: one connection pool,
token and render journal for the client's whole life, usable from several threads at
once. Event handlers stay async (``nemo_sdk.EventHandler``) and, like ``on_progress``
callbacks, run on that loop's thread; from there, do not call the sync client (it
raises ``RuntimeError`` rather than wait on itself forever).

Interrupting a call (Ctrl-C, a Celery time limit) cancels it on the loop, as a
cancelled ``await`` would, waits up to ``cancel_grace`` seconds for its cleanup, then
raises the interruption on. ``close()`` cancels the calls still running in other
threads (they raise ``ClientClosedError``), closes the async client on its loop and
stops the thread.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, overload

from .. import errors
from ..client import NemoClient as AsyncNemoClient
from ..config import ClientConfig
from ..resources import auth as _auth
from ..resources import chat as _chat
from ..resources import credits as _credits
from ..resources import renders as _renders
from ..resources import sessions as _sessions
from ..resources import state as _state
from ..resources import uploads as _uploads
from ._portal import LoopThread
from ._wrap import Facade, blocking, child, wrapped

if TYPE_CHECKING:
    from pathlib import Path

    from .._chat.reply import ChatReply
    from .._files.download import DownloadProgress
    from .._files.download_stream import Writable
    from ..events import ChatEvent

P = ParamSpec("P")
T = TypeVar("T")

__all__ = [
    "Auth",
    "Chat",
    "ChatStream",
    "Credits",
    "CreditsResource",
    "NemoClient",
    "Renders",
    "Sessions",
    "State",
    "StateResource",
    "Uploads",
]


class Auth(Facade[_auth.Auth]):
    """The anonymous token (``nemo.auth``), blocking."""

    anonymous_token = blocking(_auth.Auth.anonymous_token)
    ensure_token = blocking(_auth.Auth.ensure_token)

    @property
    def user_id(self) -> str | None:
        """The token's user id, once there is a token."""
        return self._target.user_id

    @property
    def scopes(self) -> tuple[str, ...] | None:
        """The token's scopes, when the service listed them."""
        return self._target.scopes

    @property
    def client_id(self) -> str:
        """The ``X-Client-Id`` this client sends."""
        return self._target.client_id


class Sessions(Facade[_sessions.Sessions]):
    """Sessions (``nemo.sessions``), blocking."""

    create = blocking(_sessions.Sessions.create)
    claim_link = blocking(_sessions.Sessions.claim_link)


class Credits(Facade[_credits.Credits]):
    """The credit balance (``nemo.credits``), blocking."""

    balance = blocking(_credits.Credits.balance)


class State(Facade[_state.State]):
    """A session's state and draft (``nemo.state``), blocking."""

    get = blocking(_state.State.get)


# Deprecated aliases (the same classes): the names before resources were named like Renders.
CreditsResource = Credits
StateResource = State


class Uploads(Facade[_uploads.Uploads]):
    """Media uploads (``nemo.uploads``), blocking."""

    upload = blocking(_uploads.Uploads.upload)
    upload_urls = blocking(_uploads.Uploads.upload_urls)


class Renders(Facade[_renders.Renders]):
    """Export jobs (``nemo.renders``), blocking."""

    export = blocking(_renders.Renders.export)
    get = blocking(_renders.Renders.get)
    wait = blocking(_renders.Renders.wait)
    cancel = blocking(_renders.Renders.cancel)
    if TYPE_CHECKING:
        # ``blocking`` keeps an overloaded method's first overload only: both are spelled
        # out for type checkers (tests/sync/test_coverage.py checks they match the async).
        @overload
        def download(
            self,
            render_id: str,
            path: str | Path,
            *,
            overwrite: bool = False,
            on_progress: DownloadProgress | None = None,
        ) -> Path: ...

        @overload
        def download(
            self,
            render_id: str,
            path: Writable,
            *,
            overwrite: bool = False,
            on_progress: DownloadProgress | None = None,
        ) -> int: ...

        def download(
            self,
            render_id: str,
            path: str | Path | Writable,
            *,
            overwrite: bool = False,
            on_progress: DownloadProgress | None = None,
        ) -> Path | int: ...

    else:
        download = blocking(_renders.Renders.download)
    pending = blocking(_renders.Renders.pending)
    forget = blocking(_renders.Renders.forget)


class ChatStream:
    """One chat turn's events, sync: ``with`` it, then ``for`` over it (once).

    As :class:`nemo_sdk.ChatStream`: entering sends the message, leaving closes the
    connection (even mid-stream), :attr:`reply` is there once the iteration ended.
    """

    def __init__(self, stream: _chat.ChatStream, portal: LoopThread) -> None:
        self._stream = stream
        self._portal = portal

    @property
    def session_id(self) -> str:
        """The session the turn runs in."""
        return self._stream.session_id

    @property
    def received(self) -> list[ChatEvent]:
        """Every event received so far, in order."""
        return self._stream.received

    @property
    def reply(self) -> ChatReply:
        """The turn's reply; available once the iteration has ended."""
        return self._stream.reply

    def __enter__(self) -> ChatStream:
        self._portal.run(self._stream.__aenter__)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._portal.run(lambda: self._stream.__aexit__(exc_type, exc, tb))

    def __iter__(self) -> Iterator[ChatEvent]:
        return self._drain(self._stream.__aiter__())

    def text_deltas(self) -> Iterator[str]:
        """Iterate the turn as new reply text only (as :meth:`nemo_sdk.ChatStream.text_deltas`)."""
        return self._drain(self._stream.text_deltas())

    def _drain(self, events: AsyncIterator[T]) -> Iterator[T]:
        done = object()

        async def step() -> Any:
            try:
                return await events.__anext__()
            except StopAsyncIteration:  # not through a future: it would be a RuntimeError
                return done

        try:
            while (item := self._portal.run(step)) is not done:
                yield item
        finally:
            aclose = getattr(events, "aclose", None)
            # Not from the loop thread (a generator collected there): the loop closes
            # what is left of it when the client closes.
            if aclose is not None and not self._portal.closed and not self._portal.in_loop_thread():
                self._portal.run(aclose)


def _sync_stream(stream: _chat.ChatStream, portal: LoopThread) -> ChatStream:
    return ChatStream(stream, portal)


class Chat(Facade[_chat.Chat]):
    """Chat turns (``nemo.chat``), blocking; :meth:`stream` gives a sync :class:`ChatStream`."""

    send = blocking(_chat.Chat.send)
    stream = wrapped(_chat.Chat.stream, _sync_stream)


def _same_arguments_as(
    source: Callable[P, object],
) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, P], None]]:
    """Give the decorated ``__init__`` ``source``'s parameters (for type checkers, ``help``)."""

    def decorate(init: Callable[..., None]) -> Callable[Concatenate[Any, P], None]:
        init.__signature__ = inspect.signature(source.__init__)  # type: ignore[attr-defined]
        return init

    return decorate


class NemoClient(Facade[AsyncNemoClient]):
    """:class:`nemo_sdk.NemoClient` for sync code: the same arguments, resources,
    methods and workflows, blocking (see the module's docstring for threads, handlers,
    interrupts and closing).

    Use it as a context manager, or call :meth:`close`::

        with NemoClient() as nemo:
            session = nemo.sessions.create(language="en")

    ``http_session`` is refused: an aiohttp session belongs to the loop it was made in,
    and this client's loop is private.
    """

    @_same_arguments_as(AsyncNemoClient)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("http_session") is not None:
            raise errors.InvalidArgumentError(
                "the sync NemoClient runs on a private event loop: it cannot use an "
                "aiohttp session made on another one (leave http_session out)"
            )
        client = AsyncNemoClient(*args, **kwargs)  # bad settings raise here, no thread made
        super().__init__(client, LoopThread())
        self._owns_loop = True

    @staticmethod
    def _copy(client: AsyncNemoClient, portal: LoopThread) -> NemoClient:
        # A with_options copy: its own settings, the original's loop and pool.
        copy = NemoClient.__new__(NemoClient)
        Facade.__init__(copy, client, portal)
        copy._owns_loop = False
        return copy

    auth = child(Auth)
    sessions = child(Sessions)
    credits = child(Credits)
    state = child(State)
    uploads = child(Uploads)
    renders = child(Renders)
    chat = child(Chat)

    generate_and_export = blocking(AsyncNemoClient.generate_and_export)
    batch = blocking(AsyncNemoClient.batch)
    iterate = blocking(AsyncNemoClient.iterate)

    with_options = wrapped(AsyncNemoClient.with_options, _copy)

    @property
    def config(self) -> ClientConfig:
        """The resolved settings (the token is hidden from its repr)."""
        return self._target.config

    @property
    def cancel_grace(self) -> float:
        """Seconds an interrupted call (Ctrl-C, a time limit) gets to clean up; default 10."""
        return self._portal.cancel_grace

    @cancel_grace.setter
    def cancel_grace(self, seconds: float) -> None:
        self._portal.cancel_grace = float(seconds)

    @property
    def closed(self) -> bool:
        """True after ``close()`` (for a :meth:`with_options` copy: of its original)."""
        return self._portal.closed or self._target.closed

    def close(self) -> None:
        """Cancel calls still running, close the async client on its loop, stop the thread.

        On a :meth:`with_options` copy, a no-op (the loop and pool are the original's).
        Idempotent.
        """
        if self._owns_loop:
            self._portal.close(self._target.close)

    def __enter__(self) -> NemoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"sync.NemoClient(base_url={str(self.config.api_url)!r}, closed={self.closed})"
