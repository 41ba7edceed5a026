"""``Emulator``: the offline NemoVideo service on 127.0.0.1 (an API origin and a CDN origin)."""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from . import routes_chat, routes_core, routes_render, routes_upload
from ._http import EMULATOR_KEY, RecordedRequest, add_request_id, make_middleware
from .faults import FaultInjector
from .routes_render import RenderRecord
from .store import ALL_SCOPES, SEVEN_DAYS, Store


@dataclass(frozen=True)
class Knobs:
    """The emulator's settings that later routes read (costs, pacing, speed)."""

    generation_cost: int = 100
    edit_cost: int = 50
    render_seconds: float = 1.0
    sse_delay: float = 0.0
    no_text_rate: float = 0.3
    require_attribution: bool = True
    event_shape: str = "adk"
    poll_shape: str = "alternate"
    # The chat agent (routes_chat): generated clip size, keep-alive pacing, slowness, noise.
    clip_seconds: float = 1.0
    clip_width: int = 320
    clip_height: int = 180
    clip_fps: int = 12
    # A new session's canvas: what an export renders at unless the draft or request sizes it.
    canvas_width: int = 1920
    canvas_height: int = 1080
    heartbeat_every: float = 0.5
    think_seconds: float = 0.0
    temporary_issue_rate: float = 0.0
    # The ADK event shape (routes_chat): google-adk 2.x's streams, see tests/adk/captures.
    adk_streaming: bool = False
    adk_keepalives: bool = True
    thoughts: bool = False
    text_with_call: bool = False
    actions_events: bool = False
    # Files: a Content-Disposition header template for served files ({name}: the file's name).
    content_disposition: str | None = None
    # Renders that run at once (each in a worker thread); the others wait their turn.
    render_slots: int = 2
    # The status the export answer names ("queued" plays a service outside the contract).
    export_status: str = "pending"


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

    Keyword Args:
        generation_cost (int): credits charged by the agent for a generated clip (100).
        edit_cost (int): credits charged by the agent for editing, once per session (50).
        render_seconds (float): how long a render takes at the least.
        render_slots (int): renders that run at once (2); the others wait, ``pending``.
        export_status (str): the status the export answer names (``pending``).
        poll_shape (str): the render poll answer's shape: ``data``, ``top`` (v1.9) or
            ``alternate`` (switch at each poll, the default).
        sse_delay (float): pause between chat events.
        no_text_rate (float): share of edits whose stream carries no text.
        event_shape (str): ``"adk"`` (default) or ``"flat"`` chat events.
        clip_seconds (float): length of generated clips.
        clip_width (int): width of generated clips.
        clip_height (int): height of generated clips.
        clip_fps (int): frame rate of generated clips.
        canvas_width (int): a new session's canvas width (1920): what an export
            renders at when neither the draft nor the request gives a size.
        canvas_height (int): a new session's canvas height (1080).
        heartbeat_every (float): keep-alive pacing while the chat agent works.
        think_seconds (float): how long the agent sends only keep-alives before acting.
        temporary_issue_rate (float): share of edits followed by a trailing
            "I encountered a temporary issue" text (noise the SDK must ignore).
        adk_streaming (bool): stream every turn as ADK does with ``"streaming": true``
            (partial chunks, then the aggregate under the same id), whatever the body
            says: a server that streams by default. Off: the body decides.
        adk_keepalives (bool): the ADK shape sends keep-alives (empty ``data:`` lines and
            comments) while the agent works (True); False is real ADK: silence.
        thoughts (bool): each ADK model turn opens with a ``"thought": true`` part.
        text_with_call (bool): the ADK model turn that calls a tool says something first,
            text and ``functionCall`` in one event's parts.
        actions_events (bool): after each tool result, ADK's actions-only event (no
            ``content``; ``stateDelta`` and ``artifactDelta``, the result's id).
        content_disposition (str | None): a ``Content-Disposition`` header sent with every
            served file, ``{name}`` standing for the file's name (e.g.
            ``'attachment; filename="{name}"'``; a hostile one: ``'...filename="../x"'``).
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
        **knobs: Any,
    ) -> None:
        self.host, self._port, self._cdn_port = host, port, cdn_port
        self.store = Store(
            starting_credits=starting_credits,
            anonymous_scopes=tuple(anonymous_scopes),
            token_ttl=token_ttl,
            tokens_per_ip=tokens_per_ip,
            reissue_client_tokens=reissue_client_tokens,
        )
        if clock is not None:
            self.store.clock = clock
        self.knobs = Knobs(**knobs)
        self.random = random.Random(seed)
        self.faults = FaultInjector()
        self.requests: list[RecordedRequest] = []
        # Downloads carry their own drop/truncate faults (routes_render.serve_file).
        self.streaming_routes: set[str] = {"download", "cdn"}
        self.renders: dict[str, RenderRecord] = {}
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="nemo-emu-"))
        self._runners: list[web.AppRunner] = []
        self.url = ""
        self.cdn_url = ""

    def _app(self, origin: str) -> web.Application:
        app = web.Application(middlewares=[make_middleware(origin)], client_max_size=1024**3)
        app[EMULATOR_KEY] = self
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
        self.url = await self._serve(api, self._port)
        self.cdn_url = await self._serve(cdn, self._cdn_port)
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
