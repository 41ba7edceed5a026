"""Uploads (API.md, "POST /api/upload-video/nemo_agent/me/<sid>").

Multipart bodies are streamed part by part to ``<data_dir>/uploads``, never
held in memory; each file is probed with PyAV (duration, size, fps) and added
to the session's media. URL uploads are served only from the emulator's own
origins: it never reaches the outside network.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import shutil
import uuid
from pathlib import Path
from typing import IO, Any

from aiohttp import BodyPartReader, web
from yarl import URL

from ..models.limits import ACCEPTED_FORMATS, MAX_UPLOAD_BYTES
from ._http import Reply, fail, ok, read_json, require_token
from .state import EmulatorState, state_of

CHUNK = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def resolve_local(state: EmulatorState, url: str) -> Path | None:
    """The file behind a URL of the emulator's own origins, else ``None``.

    Both origins serve ``<data_dir>/<path>``, so a URL's path is its place on disk.
    """
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return None
    if not parsed.is_absolute() or str(parsed.origin()) not in (state.url, state.cdn_url):
        return None
    parts = parsed.path.strip("/").split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    path = state.data_dir.joinpath(*parts)
    return path if path.is_file() else None


# Small local file calls, kept in the event loop on purpose (the emulator is a test server).
def _create(path: Path) -> IO[bytes]:
    return open(path, "wb")


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _extension(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return "jpg" if ext == "jpeg" else ext


def _stored_path(state: EmulatorState, filename: str) -> Path:
    folder = state.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    safe = _UNSAFE.sub("_", filename.rsplit("/", 1)[-1])[-80:].lstrip(".") or "file"
    return folder / f"{uuid.uuid4().hex[:12]}-{safe}"


def _refuse_type(filename: str, why: str) -> Reply:
    return fail(4001, f"unsupported file type: {filename}: {why}; accepted: "
                f"{', '.join(ACCEPTED_FORMATS)}")  # fmt: skip


async def _describe(state: EmulatorState, path: Path, filename: str, digest: str) -> dict[str, Any]:
    from .media import MediaError, probe  # PyAV: the emulator extra

    try:
        info = await asyncio.to_thread(probe, path)
    except MediaError:
        _remove(path)
        raise _refuse_type(filename, "not a readable video, image or audio file") from None
    return {
        "filename": filename,
        "file_type": info.kind,
        "cdn_url": f"{state.cdn_url}/uploads/{path.name}",
        "duration": round(info.duration, 3),
        "width": info.width,
        "height": info.height,
        "fps": info.fps,
        "hash": digest,
    }


async def _drain(request: web.Request) -> None:
    # Read what the client is still sending, so it gets our answer rather
    # than a reset connection.
    with contextlib.suppress(Exception):
        while await request.content.readany():
            pass


async def _save_part(state: EmulatorState, part: BodyPartReader) -> tuple[Path, str, str]:
    filename = part.filename or ""
    if _extension(filename) not in ACCEPTED_FORMATS:
        raise _refuse_type(filename or "(no name)", "extension not accepted")
    path = _stored_path(state, filename)
    digest = hashlib.sha256()
    size = 0
    try:
        with _create(path) as fh:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise fail(4002, f"file too large: {filename}: the limit is 500 MB")
                digest.update(chunk)
                fh.write(chunk)
    except BaseException:
        _remove(path)
        raise
    return path, filename, digest.hexdigest()


async def _from_multipart(state: EmulatorState, request: web.Request) -> list[dict[str, Any]]:
    saved: list[tuple[Path, str, str]] = []
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == "files":
                saved.append(await _save_part(state, part))
            else:
                await part.release()
        if not saved:
            raise fail(400, "no 'files' part in the multipart body", status=400)
        return [await _describe(state, *item) for item in saved]
    except BaseException:
        for path, _, _ in saved:
            _remove(path)
        await _drain(request)
        raise


async def _from_urls(state: EmulatorState, urls: Any) -> list[dict[str, Any]]:
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise fail(400, "'urls' must be a non-empty list of URLs", status=400)
    out = []
    for url in urls:
        source = resolve_local(state, url)
        if source is None:
            raise fail(
                400,
                f"cannot fetch {url}: the emulator fetches only its own files "
                f"({state.url}, {state.cdn_url}), never the outside network",
                status=400,
            )
        name = URL(url).name
        if _extension(name) not in ACCEPTED_FORMATS:
            raise _refuse_type(name, "extension not accepted")
        path = _stored_path(state, name)
        await asyncio.to_thread(shutil.copyfile, source, path)
        digest = await asyncio.to_thread(_sha256, path)
        out.append(await _describe(state, path, name, digest))
    return out


async def upload(request: web.Request) -> web.Response:
    state = state_of(request)
    token, _ = require_token(request, "upload")
    session = state.store.session_of(token.user_id, request.match_info["sid"])
    if session is None:
        await _drain(request)
        raise fail(1002, "session not found")
    if request.content_type == "application/json":
        files = await _from_urls(state, (await read_json(request)).get("urls"))
    elif request.content_type.startswith("multipart/"):
        files = await _from_multipart(state, request)
    else:
        raise fail(400, "send multipart/form-data files or JSON urls", status=400)
    for entry in files:
        session.video_infos.append({**entry, "url": entry["cdn_url"]})
    return ok({"files": files, "session_state_applied": True})


def setup(app: web.Application) -> None:
    """Add the upload route to the API app."""
    app.router.add_post("/api/upload-video/nemo_agent/me/{sid}", upload, name="upload")
