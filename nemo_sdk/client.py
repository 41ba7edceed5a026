"""``NemoClient``: owns the configuration and the transport, and one attribute per resource."""

from __future__ import annotations

import asyncio
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from . import workflows
from ._http import Sleep, Transport
from ._util.logging import configure_from_env, log_to_stderr
from .config import (
    ChatSettings,
    ClientConfig,
    ClientOptions,
    RenderSettings,
    RetrySettings,
    Timeouts,
    derive_config,
    given_options,
    takes_client_options,
)
from .errors import ConfigurationError

# Each resource module is imported when its attribute is first read, not here: the
# resources bring the pydantic wire models, and a program that only checks credits
# should not pay for defining the chat, draft and render models at import time.
if TYPE_CHECKING:
    import aiohttp  # only passed through: a session the user made
    from typing_extensions import Unpack

    from .resources.auth import Auth
    from .resources.chat import Chat
    from .resources.credits import Credits
    from .resources.renders import Renders
    from .resources.sessions import Sessions
    from .resources.state import State
    from .resources.uploads import Uploads


class NemoClient:
    """The async client of the NemoVideo agent API.

    Use it as an async context manager, or call ``await client.close()``::

        async with NemoClient() as nemo:
            session = await nemo.sessions.create(language="en")

    Settings come from the arguments, then the environment (``NEMO_TOKEN``,
    ``NEMO_API_URL``, ``NEMO_WEB_URL``, ``NEMO_CLIENT_ID``, ``NEMO_TOKEN_CACHE``,
    ``NEMO_LOG``, the ``NEMO_RENDER_*`` and ``NEMO_CHAT_*`` waits), then defaults. The
    keyword arguments are :class:`~nemo_sdk.config.ClientOptions` (each is described
    there): the common ones, ``token``, ``base_url``, ``timeout`` and ``max_retries``, and
    the groups, as httpx has them: ``timeouts`` (:class:`Timeouts`), ``retry``
    (:class:`RetrySettings`), ``limits`` (:class:`Limits`), ``chat_settings``
    (:class:`ChatSettings`) and ``render_settings`` (:class:`RenderSettings`). A malformed
    setting is a :class:`ConfigurationError` naming it (the environment variable when it
    came from there), raised here, before anything is sent. Without a token the client
    gets an anonymous one on first use.

    Lifecycle: a client belongs to the event loop it first sends from (its connections
    live there); using it from another loop raises :class:`EventLoopMismatchError`, so
    create it inside the coroutine that uses it. :meth:`with_options` copies share this
    client's connection pool, token and client id; only this client's :meth:`close`
    closes the pool (closing a copy is a no-op), as in openai-python.

    Args:
        config: a ready :class:`ClientConfig`, instead of the settings: giving both is
            a :class:`ConfigurationError` (change one with ``attrs.evolve(config, ...)``).
        http_session: an aiohttp session to use; the client then does not close it
            (nor applies ``trust_env`` and the pool limits: the session has its own).
        sleep: what the retry rules and polls wait with (``asyncio.sleep``).
        **options: the settings (:class:`~nemo_sdk.config.ClientOptions`).
    """

    @takes_client_options
    def __init__(
        self,
        *,
        config: ClientConfig | None = None,
        http_session: aiohttp.ClientSession | None = None,
        sleep: Sleep | None = None,
        _transport: Transport | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        if _transport is not None:  # a with_options copy
            self._transport = _transport
            return
        given = given_options(options, "NemoClient")  # a misspelt name is a TypeError
        if config is None:
            config = ClientConfig.resolve(**options)
        elif given:
            raise ConfigurationError(
                f"config= is a complete ClientConfig: {', '.join(f'{n}=' for n in given)} "
                "would be ignored. Pass the settings, or a config made with them "
                "(attrs.evolve(config, ...)), not both"
            )
        if config.log_requests:
            log_to_stderr("debug")
        elif options.get("log_requests") is None:  # log_requests=False: NEMO_LOG is not asked
            configure_from_env()
        self._transport = Transport(config, http_session=http_session, sleep=sleep or asyncio.sleep)

    @cached_property
    def auth(self) -> Auth:
        """The anonymous token (``nemo.auth``)."""
        from .resources.auth import Auth

        return Auth(self._transport)

    @cached_property
    def sessions(self) -> Sessions:
        """Sessions: create, and the browser claim link (``nemo.sessions``)."""
        from .resources.sessions import Sessions

        return Sessions(self._transport)

    @cached_property
    def credits(self) -> Credits:
        """The credit balance (``nemo.credits``)."""
        from .resources.credits import Credits

        return Credits(self._transport)

    @cached_property
    def state(self) -> State:
        """A session's state and its draft (``nemo.state``)."""
        from .resources.state import State

        return State(self._transport)

    @cached_property
    def uploads(self) -> Uploads:
        """Media uploads, from files, bytes or URLs (``nemo.uploads``)."""
        from .resources.uploads import Uploads

        return Uploads(self._transport)

    @cached_property
    def renders(self) -> Renders:
        """Export jobs: export, wait, download, cancel, pending (``nemo.renders``)."""
        from .resources.renders import Renders

        return Renders(self._transport)

    @cached_property
    def chat(self) -> Chat:
        """Chat turns with the agent, streamed or awaited (``nemo.chat``)."""
        from .resources.chat import Chat

        return Chat(self._transport)

    generate_and_export = workflows.generate_and_export
    batch = workflows.batch
    iterate = workflows.iterate

    @property
    def config(self) -> ClientConfig:
        """The resolved settings (the token is hidden from its repr)."""
        return self._transport.config

    @property
    def closed(self) -> bool:
        """True after ``close()`` of this client (for a copy: of the original it came from)."""
        return self._transport.closed

    def with_options(
        self,
        *,
        timeout: float | Timeouts | None = None,
        max_retries: int | None = None,
        retry: RetrySettings | None = None,
        chat_settings: ChatSettings | None = None,
        render_settings: RenderSettings | None = None,
    ) -> NemoClient:
        """A copy with other per-request settings that shares this client's connection pool.

        The arguments mean what they mean to the constructor (``None`` keeps this
        client's): a number for ``timeout`` sets the total per-request timeout, and
        ``max_retries`` beats ``retry``'s. The pool's ``limits`` stay the original's. The
        copy needs no closing: its ``close()`` (or ``async with`` block) leaves the shared
        pool open, and closing this client closes it for every copy.
        """
        config = derive_config(
            self.config,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            chat_settings=chat_settings,
            render_settings=render_settings,
        )
        return NemoClient(_transport=self._transport.derive(config))

    async def close(self) -> None:
        """Close the connection pool (an injected aiohttp session is left open).

        On a :meth:`with_options` copy, a no-op: the pool is the original's.
        """
        await self._transport.close()

    async def __aenter__(self) -> NemoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"NemoClient(base_url={str(self.config.api_url)!r}, closed={self.closed})"
