"""One base URL for the SDK: ``/run_sse`` goes to google-adk, every other path to the emulator.

The SDK's chat reads the session state before and after a turn (the emulator's
routes) and sends the turn itself to ``/run_sse`` (ADK's). When the SDK creates a
session on the emulator, the proxy creates the same session id in ADK
(``POST /apps/nemo_agent/users/me/sessions``), so both sides know it.
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp import web

_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
SESSION_ROUTE = "/api/tasks/me/with-session/nemo_agent"


class AdkProxy:
    """``async with AdkProxy(adk_url, emulator_url) as proxy``: ``proxy.url`` for the SDK."""

    def __init__(self, adk_url: str, emulator_url: str) -> None:
        self.adk_url = adk_url
        self.emulator_url = emulator_url
        self.run_sse_bodies: list[dict[str, Any]] = []  # every turn ADK was sent
        self.url = ""
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> AdkProxy:
        # No client timeouts: a silent ADK tool is what the tests exercise.
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        # A client that leaves cancels the handler, which closes ADK's stream at once.
        self._runner = web.AppRunner(app, handle_signals=False, handler_cancellation=True)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self._http is not None
        return self._http

    async def adk_session(self, session_id: str, *, create: bool = True) -> None:
        """Create (or, ``create=False``, delete) ``session_id`` in ADK."""
        sessions = f"{self.adk_url}/apps/nemo_agent/users/me/sessions"
        if create:
            request = self.http.post(sessions, json={"session_id": session_id})
        else:
            request = self.http.delete(f"{sessions}/{session_id}")
        async with request as r:
            r.raise_for_status()

    async def adk_events(self, session_id: str) -> list[dict[str, Any]]:
        """The events ADK keeps for ``session_id``."""
        url = f"{self.adk_url}/apps/nemo_agent/users/me/sessions/{session_id}"
        async with self.http.get(url) as r:
            r.raise_for_status()
            events: list[dict[str, Any]] = (await r.json())["events"]
            return events

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        is_chat = request.path == "/run_sse"
        if is_chat:
            self.run_sse_bodies.append(await request.json())
        base = self.adk_url if is_chat else self.emulator_url
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with self.http.request(
            request.method, base + request.path_qs, data=body, headers=headers
        ) as upstream:
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP}
            if not is_chat:
                data = await upstream.read()
                if request.path == SESSION_ROUTE and upstream.status == 200:
                    answer = await upstream.json(content_type=None)
                    if answer.get("code") == 0:
                        await self.adk_session(answer["data"]["session_id"])
                return web.Response(status=upstream.status, body=data, headers=out_headers)
            response = web.StreamResponse(status=upstream.status, headers=out_headers)
            await response.prepare(request)
            # Byte for byte as ADK sends them, as soon as they come.
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
            except ConnectionError:
                pass  # the SDK left mid-stream: closing ours closes ADK's
            return response
