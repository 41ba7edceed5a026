"""``Emulator``: the offline NemoVideo service on 127.0.0.1 (an API origin and a CDN origin)."""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from . import routes_chat, routes_core, routes_render, routes_upload
from ._http import add_request_id, make_middleware
from .faults import FaultInjector
from .knobs import Knobs, make_knobs
from .records import ChatTurn, RecordedRequest, RenderRecord
from .state import STATE_KEY, EmulatorState
from .store import ALL_SCOPES, SEVEN_DAYS, Store


class Emulator:
    """A real aiohttp server speaking the API.md contract, for tests and offline use.

    ``async with Emulator() as emu:`` then ``NemoClient(base_url=emu.url)``.
    Finished files are served from a separate CDN origin (``emu.cdn_url``) that
    rejects any request carrying an ``Authorization`` header.

    Args:
        starting_credits: credits of a new user (100, as for a new anonymous token).
        anonymous_scopes: scopes of anonymous tokens; ``("read", "write", "upload")``
            reproduces v1.9's rule (anonymous export refused with 402).
        token_ttl: token lifetime in seconds (7 days).
        tokens_per_ip: new anonymous tokens allowed per IP per 7 days (10).
        reissue_client_tokens: a client id that holds a live token and asks again gets
            that token back (True, the default); False enforces v1.9's one token per
            client per 7 days strictly: HTTP 429 with ``data.limit`` ``"per_client"``.
        seed: seeds the emulator's randomness, for repeatable tests.
        data_dir: where media and renders are written (a temporary directory by default).
        knobs: the :class:`Knobs` to start from (the defaults when ``None``).
        **overrides: knobs by name over ``knobs`` (``Emulator(render_seconds=30)``): an
            unknown name is a ``TypeError``, a refused value a ``ValueError``, both
            naming the knob (and a choice's choices). See :class:`Knobs` for each.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cdn_port: int = 0,
        starting_credits: int = 100,
        anonymous_scopes: tuple[str, ...] = ALL_SCOPES,
        token_ttl: float = SEVEN_DAYS,
        tokens_per_ip: int = 10,
        reissue_client_tokens: bool = True,
        seed: int = 0,
        data_dir: str | Path | None = None,
        clock: Callable[[], float] | None = None,
        knobs: Knobs | None = None,
        **overrides: Any,
    ) -> None:
        self.host, self._port, self._cdn_port = host, port, cdn_port
        checked = make_knobs(knobs, **overrides)  # before anything is made: a typo made nothing
        store = Store(
            starting_credits=starting_credits,
            anonymous_scopes=tuple(anonymous_scopes),
            token_ttl=token_ttl,
            tokens_per_ip=tokens_per_ip,
            reissue_client_tokens=reissue_client_tokens,
        )
        if clock is not None:
            store.clock = clock
        self._own_dir = data_dir is None
        self.state = EmulatorState(
            store=store,
            knobs=checked,
            data_dir=Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="nemo-emu-")),
            random=random.Random(seed),
        )
        """What the routes read and change: store, knobs, faults, records (shortcuts below)."""
        self._runners: list[web.AppRunner] = []

    # The state's parts, as tests have always reached them.
    @property
    def store(self) -> Store:
        """Tokens, users, sessions, drafts, credits (tests may read and change it)."""
        return self.state.store

    @property
    def knobs(self) -> Knobs:
        """The knobs routes read at each request; assign a new :class:`Knobs` to change them."""
        return self.state.knobs

    @knobs.setter
    def knobs(self, knobs: Knobs) -> None:
        self.state.knobs = knobs

    @property
    def faults(self) -> FaultInjector:
        """The fault plan: ``emu.faults.add(route, kind, ...)``."""
        return self.state.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order."""
        return self.state.requests

    @property
    def renders(self) -> dict[str, RenderRecord]:
        """Render jobs by id."""
        return self.state.renders

    @property
    def turns(self) -> list[ChatTurn]:
        """Every chat turn accepted, in order."""
        return self.state.turns

    @property
    def random(self) -> random.Random:
        """The seeded randomness the routes draw from."""
        return self.state.random

    @property
    def streaming_routes(self) -> set[str]:
        """Routes that carry out their own stream faults."""
        return self.state.streaming_routes

    @property
    def data_dir(self) -> Path:
        """Where media and renders are written."""
        return self.state.data_dir

    @property
    def url(self) -> str:
        """The API origin (``""`` until started)."""
        return self.state.url

    @property
    def cdn_url(self) -> str:
        """The CDN origin (``""`` until started)."""
        return self.state.cdn_url

    def _app(self, origin: str) -> web.Application:
        app = web.Application(middlewares=[make_middleware(origin)], client_max_size=1024**3)
        app[STATE_KEY] = self.state
        app.on_response_prepare.append(add_request_id)
        return app

    async def start(self) -> Emulator:
        """Bind both origins; ``url`` and ``cdn_url`` are set afterwards."""
        api = self._app("api")
        routes_core.setup(api)
        for extra in _route_modules():
            extra.setup(api)
        cdn = self._app("cdn")
        for extra in _route_modules():
            if hasattr(extra, "setup_cdn"):
                extra.setup_cdn(cdn)
        self.state.url = await self._serve(api, self._port)
        self.state.cdn_url = await self._serve(cdn, self._cdn_port)
        return self

    async def _serve(self, app: web.Application, port: int) -> str:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, port)
        await site.start()
        self._runners.append(runner)
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1]
        return f"http://{self.host}:{bound}"

    async def stop(self) -> None:
        """Stop serving and remove the temporary data directory."""
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.stop()

    # Conveniences for tests.
    def issue_token(self, *, scopes: tuple[str, ...] = ("*",), credits: int | None = None) -> str:
        """A registered-style token with ``scopes`` (for ``NEMO_TOKEN`` flows)."""
        return self.store.issue_token(scopes=scopes, credits=credits).value

    def set_draft(self, session_id: str, draft: dict[str, Any] | None) -> None:
        """Replace a session's draft."""
        self.store.sessions[session_id].draft = draft

    def count(self, route: str, origin: str = "api") -> int:
        """How many requests a route received."""
        return sum(1 for r in self.requests if r.route == route and r.origin == origin)

    def __repr__(self) -> str:
        return f"Emulator(url={self.url!r}, cdn_url={self.cdn_url!r})"


def _route_modules() -> list[Any]:
    """Route modules beyond the core ones, each with ``setup(app)`` (and maybe ``setup_cdn``)."""
    return [routes_chat, routes_upload, routes_render]
