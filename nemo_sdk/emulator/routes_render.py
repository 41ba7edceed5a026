"""Render jobs and file serving (API.md, "POST /api/render/proxy/lambda" and after).

A render goes ``pending -> processing -> completed | failed``; the draft is
rendered for real by :func:`renderer.render_draft` in a worker thread and
takes at least the ``render_seconds`` knob. The poll answer's shape follows
the ``poll_shape`` knob: ``data`` (status and ``outputUrl`` under ``data``),
``top`` (v1.9: status at the top level, ``data.output.url``, ``taskId``) or
``alternate`` (the default: each poll switches), so clients meet every
documented shape.

Finished files are served from the CDN origin at ``/renders/<file>`` (and
uploads at ``/uploads/<file>``), which refuses any request carrying an
``Authorization`` header, and from ``GET /api/render/proxy/<id>/download``
with bearer auth. Both honour ``Range`` and carry the ``drop``/``truncate``
faults. Every file answer, faulty ones included, carries a strong ``ETag``
and ``Last-Modified``, and a ``Range`` counts only while ``If-Range`` still
names the file (RFC 9110 13.1.5): otherwise the whole file comes back, 200.

The ``export_status`` knob is the status the export answer names (``pending``;
``queued`` plays a service that answers with an undocumented one).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import re
import time
from functools import partial
from pathlib import Path
from typing import IO, Any

from aiohttp import web

from ._http import (
    Reply,
    fail,
    has_attribution,
    read_json,
    render_ok,
    require_token,
    write_lying,
)
from .faults import STREAM_KINDS, Fault
from .records import RenderRecord
from .routes_upload import resolve_local
from .state import STATE_KEY, EmulatorState, state_of

__all__ = ["RenderRecord", "render_fail", "serve_file", "setup", "setup_cdn"]

CHUNK = 1024 * 1024
_RENDER_ID = re.compile(r"render_[A-Za-z0-9_\-]{1,128}")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_SLOTS: web.AppKey[asyncio.Semaphore] = web.AppKey("render_slots", asyncio.Semaphore)


def render_fail(status: int, message: str) -> Reply:
    """The render endpoints' error envelope: ``{"success": false, "error": ...}``."""
    return Reply(web.json_response({"success": False, "error": message}, status=status))


# ---------------------------------------------------------------- jobs


async def _pause(rec: RenderRecord, seconds: float) -> None:
    # A sleep that a cancel (or the emulator stopping) cuts short.
    if seconds > 0:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(rec.stop.wait(), seconds)


async def _run(state: EmulatorState, slots: asyncio.Semaphore, rec: RenderRecord) -> None:
    from .renderer import RenderCancelled, RenderError, render_draft

    started = time.monotonic()
    minimum = state.knobs.render_seconds
    await _pause(rec, min(0.05, minimum / 4))  # long enough to be seen pending
    folder = state.data_dir / "renders"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{rec.id}.{rec.format}"

    def progress(fraction: float) -> None:
        # Reported as the render goes: the work done, or the share of render_seconds
        # passed when that is the longer part, so progress predicts the end honestly.
        paced = (time.monotonic() - started) / minimum if minimum > 0 else 1.0
        rec.progress = min(95.0, min(fraction, paced) * 95)  # the last 5 % is publishing

    async with slots:
        if rec.cancel_requested:
            return
        rec.status = "processing"
        try:
            await asyncio.to_thread(
                render_draft,
                rec.draft,
                out,
                resolve_media=partial(resolve_local, state),
                width=rec.width,
                height=rec.height,
                fps=rec.fps,
                format=rec.format,
                quality=rec.quality,
                progress=progress,
                cancelled=lambda: rec.cancel_requested,
            )
        except RenderCancelled:
            return
        except RenderError as exc:
            rec.status, rec.error = "failed", str(exc)
            return
    while (left := minimum - (time.monotonic() - started)) > 0 and not rec.cancel_requested:
        progress(1.0)
        await _pause(rec, min(left, 0.1))
    if rec.cancel_requested:
        out.unlink(missing_ok=True)
        return
    rec.path = out
    rec.output_url = f"{state.cdn_url}/renders/{out.name}"
    rec.progress, rec.completed_at, rec.status = 100.0, time.time(), "completed"


def _int_or_none(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise render_fail(400, f"{what} must be a number")
    return round(value)


def _exportable(draft: Any) -> bool:
    tracks = draft.get("t") if isinstance(draft, dict) else None
    return isinstance(tracks, list) and any(
        isinstance(t, dict) and isinstance(t.get("sg"), list) and t["sg"] for t in tracks
    )


async def export(request: web.Request) -> web.Response:
    from .renderer import FORMATS, QUALITIES

    state = state_of(request)
    token, _ = require_token(request)
    if state.knobs.require_attribution and not has_attribution(request):
        raise fail(402, "export blocked: the attribution headers X-Skill-Source, "
                   "X-Skill-Version and X-Skill-Platform are required", status=402)  # fmt: skip
    if not token.allows("render"):
        raise fail(402, "export blocked on the free plan: this token lacks the 'render' scope "
                   "(anonymous tokens cannot export); a registered token is needed",
                   status=402)  # fmt: skip
    body = await read_json(request)
    rid = body.get("id")
    if not isinstance(rid, str) or not _RENDER_ID.fullmatch(rid):
        raise render_fail(400, "id must be render_<unique>")
    if rid in state.renders:
        raise render_fail(409, f"render id {rid} already exists")
    session = state.store.session_of(token.user_id, str(body.get("sessionId", "")))
    if session is None:
        raise fail(1002, "session not found")
    draft = body.get("draft")
    if not _exportable(draft):
        raise render_fail(400, "draft is not exportable: no track with a segment")
    assert isinstance(draft, dict)
    output = body.get("output") or {}
    if not isinstance(output, dict):
        raise render_fail(400, "output must be an object")
    fmt, quality = str(output.get("format", "mp4")), str(output.get("quality", "high"))
    if fmt not in FORMATS or quality not in QUALITIES:
        raise render_fail(400, f"unsupported output {fmt}/{quality}; formats: "
                          f"{', '.join(FORMATS)}; qualities: {', '.join(QUALITIES)}")  # fmt: skip
    meta = draft.get("m")
    meta = meta if isinstance(meta, dict) else {}
    width = _int_or_none(output.get("width"), "output.width")
    height = _int_or_none(output.get("height"), "output.height")
    if not (width or meta.get("width")) and not (height or meta.get("height")):
        # Neither the request nor the draft sizes the picture: the canvas does.
        width, height = session.canvas.get("width"), session.canvas.get("height")
    fps = _int_or_none(output.get("fps") or meta.get("fps"), "fps") or 30
    rec = RenderRecord(
        rid, token.user_id, session.id, draft, fmt, quality, width, height,
        min(120, max(1, fps)),
    )  # fmt: skip
    state.renders[rid] = rec
    rec.task = asyncio.create_task(_run(state, request.app[_SLOTS], rec))
    return render_ok({"id": rid, "status": state.knobs.export_status, "progress": 0})


def _owned(request: web.Request) -> RenderRecord:
    token, _ = require_token(request, "read")
    rec = state_of(request).renders.get(request.match_info["id"])
    if rec is None or rec.user_id != token.user_id:
        raise render_fail(404, "render not found")
    return rec


async def poll(request: web.Request) -> web.Response:
    state = state_of(request)
    rec = _owned(request)
    rec.polls += 1
    shape = state.knobs.poll_shape
    if shape == "alternate":
        shape = "data" if rec.polls % 2 else "top"
    data, top = rec.answer(shape)
    return render_ok(data, **top)


async def cancel(request: web.Request) -> web.Response:
    rec = _owned(request)
    if rec.status == "completed":
        raise render_fail(409, "render already completed")
    if rec.status in ("pending", "processing"):
        rec.cancel_requested = True
        rec.stop.set()
        rec.status, rec.error = "failed", "cancelled by request"
    data, top = rec.answer("data")
    return render_ok(data, **top)


# ---------------------------------------------------------------- files


def _validators(path: Path) -> dict[str, str]:
    # The ETag aiohttp's FileResponse sends, so every answer about one file agrees.
    st = path.stat()
    return {
        "ETag": f'"{st.st_mtime_ns:x}-{st.st_size:x}"',
        "Last-Modified": email.utils.formatdate(st.st_mtime, usegmt=True),
    }


def _range_applies(request: web.Request, path: Path) -> bool:
    """False when ``If-Range`` names another version of the file: the Range is ignored."""
    value = request.headers.get("If-Range")
    if value is None:
        return True
    if value.startswith(('"', "W/")):
        return value == _validators(path)["ETag"]  # a strong comparison; W/ never matches
    try:
        since = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return False
    return int(path.stat().st_mtime) <= since


def _range_start(request: web.Request, size: int, path: Path) -> int | None:
    header = request.headers.get("Range")
    if not header or not _range_applies(request, path):
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or int(match[1]) >= size:
        raise Reply(web.Response(status=416, headers={"Content-Range": f"bytes */{size}"}))
    return int(match[1])


def _open_at(path: Path, offset: int) -> IO[bytes]:
    fh = open(path, "rb")  # noqa: SIM115 - closed by the caller's with-block
    fh.seek(offset)
    return fh


async def _faulty(request: web.Request, path: Path, fault: Fault) -> web.StreamResponse:
    # Promise the whole (remaining) file, send part of it, hang up.
    size = path.stat().st_size  # noqa: ASYNC240 - a local stat in a test server's loop
    start = _range_start(request, size, path)
    first = start or 0
    resp = web.StreamResponse(status=200 if start is None else 206, headers=_validators(path))
    resp.headers["Content-Type"] = "application/octet-stream"
    resp.headers["Accept-Ranges"] = "bytes"
    if start is not None:
        resp.headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
    length = size - first
    resp.content_length = length
    if fault.kind == "whole":
        default = length
    elif fault.kind in ("truncate", "stall"):
        default = length // 2
    else:
        default = min(length // 4, 64 * 1024)
    cut = min(length, int(fault.params.get("at", default)))
    await resp.prepare(request)
    with _open_at(path, first) as fh:
        sent = 0
        while sent < cut:
            chunk = fh.read(min(CHUNK, cut - sent))
            if not chunk:
                break
            await resp.write(chunk)
            sent += len(chunk)
        if fault.kind == "stall":
            # Part of the file is out (and on the client's disk); the rest comes late.
            await asyncio.sleep(float(fault.params.get("delay", 10.0)))
            while chunk := fh.read(CHUNK):
                await resp.write(chunk)
            return resp
    if request.transport is not None and fault.kind != "whole":
        request.transport.close()
    return resp


async def _lying(request: web.Request, path: Path, fault: Fault) -> web.StreamResponse:
    # The whole (remaining) file under a Content-Length off by ``delta`` bytes.
    size = path.stat().st_size  # noqa: ASYNC240 - a local stat in a test server's loop
    start = _range_start(request, size, path)
    headers = {
        "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
        **_validators(path),
    }  # fmt: skip
    if start is not None:
        headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
    with _open_at(path, start or 0) as fh:
        body = fh.read()
    delta = int(fault.params.get("delta", 64))
    return await write_lying(request, 200 if start is None else 206, headers, body, delta)


def _disposition(state: EmulatorState, path: Path) -> dict[str, str]:
    # The ``content_disposition`` knob: a header template, ``{name}`` is the file's name.
    template = state.knobs.content_disposition
    return {} if template is None else {"Content-Disposition": template.format(name=path.name)}


async def serve_file(request: web.Request, path: Path | None, route: str) -> web.StreamResponse:
    """``path`` with Range support, or the planned ``drop``/``truncate``/``lie``/``stall`` fault."""
    if path is None or not path.is_file():  # noqa: ASYNC240 - a local stat, as above
        raise render_fail(404, "file not found")
    state = state_of(request)
    fault = state.faults.take(route, STREAM_KINDS)
    if fault is not None and fault.kind == "lie":
        return await _lying(request, path, fault)
    if fault is not None and fault.kind in ("drop", "truncate", "stall"):
        return await _faulty(request, path, fault)
    if "Range" in request.headers and not _range_applies(request, path):
        # aiohttp's FileResponse reads If-Range as a date only: an ETag would pass.
        return await _faulty(request, path, Fault(route, "whole"))
    # FileResponse uses sendfile and answers Range / If-Range itself.
    headers = {"Accept-Ranges": "bytes", **_disposition(state, path)}
    return web.FileResponse(path, headers=headers)


async def download(request: web.Request) -> web.StreamResponse:
    rec = _owned(request)
    if rec.status != "completed":
        raise render_fail(409, f"render {rec.id} is {rec.status}, not completed")
    return await serve_file(request, rec.path, "download")


async def cdn_file(request: web.Request) -> web.StreamResponse:
    if "Authorization" in request.headers:
        # API.md: the output URL is fetched without headers; a client that sends
        # the bearer token here leaks it to another host.
        raise Reply(
            web.json_response(
                {
                    "code": 403,
                    "message": "the CDN refuses requests carrying an Authorization "
                    "header: never send the API token to the output URL",
                },
                status=403,
            )
        )
    name = request.match_info["name"]
    if name.startswith(".") or "/" in name:
        raise render_fail(404, "file not found")
    state = state_of(request)
    return await serve_file(request, state.data_dir / request.match_info["kind"] / name, "cdn")


async def _stop_renders(app: web.Application) -> None:
    tasks = []
    for rec in app[STATE_KEY].renders.values():
        rec.cancel_requested = True
        rec.stop.set()
        if rec.task is not None and not rec.task.done():
            tasks.append(rec.task)
    if tasks:
        # Let each render thread notice the flag and stop writing before the
        # data directory is removed.
        _, late = await asyncio.wait(tasks, timeout=10)
        for task in late:
            task.cancel()


def setup(app: web.Application) -> None:
    """Add the render routes to the API app."""
    app[_SLOTS] = asyncio.Semaphore(max(1, app[STATE_KEY].knobs.render_slots))
    app.router.add_post("/api/render/proxy/lambda", export, name="export")
    app.router.add_get("/api/render/proxy/lambda/{id}", poll, name="poll")
    app.router.add_post("/api/render/proxy/lambda/{id}/cancel", cancel, name="cancel")
    app.router.add_get("/api/render/proxy/{id}/download", download, name="download")
    app.on_cleanup.append(_stop_renders)


def setup_cdn(app: web.Application) -> None:
    """Add the file routes to the CDN app."""
    app.router.add_get("/{kind:uploads|renders}/{name}", cdn_file, name="cdn")
