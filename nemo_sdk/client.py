"""``NemoClient``: owns the configuration and the transport, and one attribute per resource."""

from __future__ import annotations

import asyncio
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import attrs
from yarl import URL

from . import workflows
from ._http import Sleep, Transport
from ._logging import configure_from_env
from .config import ChatSettings, ClientConfig, RetrySettings, Timeouts, TokenCacheOption

# Each resource module is imported when its attribute is first read, not here: the
# resources bring the pydantic wire models, and a program that only checks credits
# should not pay for defining the chat, draft and render models at import time.
if TYPE_CHECKING:
    import aiohttp  # only passed through: a session the user made

    from .resources.auth import Auth
    from .resources.chat import Chat
    from .resources.credits import CreditsResource
    from .resources.renders import Renders
    from .resources.sessions import Sessions
    from .resources.state import StateResource
    from .resources.uploads import Uploads


class NemoClient:
    """The async client of the NemoVideo agent API.

    Use it as an async context manager, or call ``await client.close()``::

        async with NemoClient() as nemo:
            session = await nemo.sessions.create(language="en")

    Settings come from the arguments, then the environment (``NEMO_TOKEN``,
    ``NEMO_API_URL``, ``NEMO_WEB_URL``, ``NEMO_CLIENT_ID``, ``NEMO_TOKEN_CACHE``),
    then defaults. A malformed one is a :class:`ConfigurationError` naming it (the
    environment variable when it came from there), raised here, before anything is sent.
    Without a token the client gets an anonymous one on first use.

    Lifecycle: a client belongs to the event loop it first sends from (its connections
    live there); using it from another loop raises :class:`EventLoopMismatchError`, so
    create it inside the coroutine that uses it. :meth:`with_options` copies share this
    client's connection pool, token and client id; only this client's :meth:`close`
    closes the pool (closing a copy is a no-op), as in openai-python.

    Args:
        base_url: the API's base URL.
        web_url: the web app's URL (browser links, registration link).
        token: a bearer token; beats ``NEMO_TOKEN``.
        client_id: the ``X-Client-Id``; else ``NEMO_CLIENT_ID``, else a persisted UUID.
        client_id_path: where the client id is persisted
            (default ``$XDG_CONFIG_HOME/nemovideo/client_id``).
        allow_anonymous_reauth: renew an expired token anonymously. Default: only
            for tokens the client got itself, never for one you supplied.
        token_cache: keep the anonymous token between runs, per API URL, owner-only
            (the service gives one per client id per 7 days). ``None`` (default):
            as ``NEMO_TOKEN_CACHE`` says (``1`` or a path), else off; ``False``: off;
            ``True``: ``$XDG_CONFIG_HOME/nemovideo/tokens.json``; a path: that file.
            A token you supply is never written.
        timeouts: connect, read-idle and total timeouts.
        retry: how the retry rules wait (tests make these milliseconds).
        chat_settings: how chat turns wait and recover (see :class:`ChatSettings`).
        source: the ``X-Skill-Source`` attribution header (``nemo-sdk``).
        version: the ``X-Skill-Version`` attribution header (the SDK version).
        platform: the ``X-Skill-Platform`` attribution header (detected).
        journal_path: where the render job journal is kept (default
            ``$XDG_CONFIG_HOME/nemovideo/renders.sqlite3``); ``False`` turns it off.
        render_poll_interval: a fixed time between polls of ``renders.wait`` (default:
            ``NEMO_RENDER_POLL_INTERVAL``, else an adaptive schedule, polls 2 s apart at least).
        trust_env: send requests through the proxy ``HTTPS_PROXY`` (``HTTP_PROXY`` for
            an ``http://`` URL) names, unless ``NO_PROXY`` lists the host (default
            ``True``, as requests and httpx do); ``False`` always connects directly.
        max_connections: the most connections the pool opens at once (100; 0: no limit).
        max_connections_per_host: the most to one host (0, default: no limit but the total).
        http_session: an aiohttp session to use; the client then does not close it
            (nor applies ``trust_env`` and the pool limits: the session has its own).
        config: a ready :class:`ClientConfig` (the other settings are then ignored).
    """

    def __init__(
        self,
        *,
        base_url: str | URL | None = None,
        web_url: str | URL | None = None,
        token: str | None = None,
        client_id: str | None = None,
        client_id_path: str | Path | None = None,
        allow_anonymous_reauth: bool | None = None,
        token_cache: TokenCacheOption = None,
        timeouts: Timeouts | None = None,
        retry: RetrySettings | None = None,
        chat_settings: ChatSettings | None = None,
        source: str | None = None,
        version: str | None = None,
        platform: str | None = None,
        journal_path: str | Path | Literal[False] | None = None,
        render_poll_interval: float | None = None,
        trust_env: bool = True,
        max_connections: int = 100,
        max_connections_per_host: int = 0,
        http_session: aiohttp.ClientSession | None = None,
        config: ClientConfig | None = None,
        sleep: Sleep | None = None,
        _transport: Transport | None = None,
    ) -> None:
        configure_from_env()
        if _transport is not None:
            self._transport = _transport
        else:
            self._transport = Transport(
                config
                or ClientConfig.resolve(
                    base_url=base_url,
                    web_url=web_url,
                    token=token,
                    client_id=client_id,
                    client_id_path=client_id_path,
                    allow_anonymous_reauth=allow_anonymous_reauth,
                    token_cache=token_cache,
                    source=source,
                    version=version,
                    platform=platform,
                    timeouts=timeouts,
                    retry=retry,
                    journal_path=journal_path,
                    render_poll_interval=render_poll_interval,
                    chat=chat_settings,
                    trust_env=trust_env,
                    max_connections=max_connections,
                    max_connections_per_host=max_connections_per_host,
                ),
                http_session=http_session,
                sleep=sleep or asyncio.sleep,
            )

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
    def credits(self) -> CreditsResource:
        """The credit balance (``nemo.credits``)."""
        from .resources.credits import CreditsResource

        return CreditsResource(self._transport)

    @cached_property
    def state(self) -> StateResource:
        """A session's state and its draft (``nemo.state``)."""
        from .resources.state import StateResource

        return StateResource(self._transport)

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
    ) -> NemoClient:
        """A copy with other timeouts or retries that shares this client's connection pool.

        A number for ``timeout`` sets the total per-request timeout. The copy needs no
        closing: its ``close()`` (or ``async with`` block) leaves the shared pool open,
        and closing this client closes it for every copy.
        """
        config = self.config
        if isinstance(timeout, Timeouts):
            config = attrs.evolve(config, timeouts=timeout)
        elif timeout is not None:
            config = attrs.evolve(config, timeouts=attrs.evolve(config.timeouts, total=timeout))
        if retry is not None:
            config = attrs.evolve(config, retry=retry)
        if max_retries is not None:
            config = attrs.evolve(config, retry=attrs.evolve(config.retry, max_retries=max_retries))
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
