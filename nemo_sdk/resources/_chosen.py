"""Fleet-facing render steps: exports under a caller-chosen id, downloads into a stream.

Exports under a caller-chosen render id: get-or-create, one render per id.

API.md lets the client name the render (``id`` in the export body) and refuses
a duplicate id. So a look-up before the submit, and another after a refused
one, give exactly one render per id however often a job engine retries or
redelivers the step: true of the real service too, since it relies only on
the documented ``GET .../lambda/<id>`` and the duplicate-id refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .. import errors
from .._files import download as _download
from .._files.download_stream import Writable, download_to
from .._util.logging import logger
from ..models.render import RenderJob

if TYPE_CHECKING:
    from .._http import Transport


class _Unresolved(Exception):
    """A submit's answer was lost and the look-up of its id failed too."""

    def __init__(self, error: errors.NemoError, lookup: errors.NemoError) -> None:
        super().__init__(str(error))
        self.error = error
        self.lookup = lookup


class Renders(Protocol):
    """What these steps use of ``nemo.renders`` (typed so, that the two modules do not
    import each other): its calls and its journal steps."""

    _transport: Transport

    async def get(self, render_id: str) -> RenderJob: ...
    async def wait(self, render_id: str) -> RenderJob: ...
    async def _submit(self, body: dict[str, Any], render_id: str) -> RenderJob: ...
    async def _unconfirmed(self, render_id: str, unresolved: _Unresolved) -> errors.NemoError: ...
    async def _record(self, render_id: str, session_id: str, path: str | None = None) -> None: ...
    async def _update(self, render_id: str, **fields: str | None) -> None: ...
    async def _forget(self, render_id: str) -> None: ...


async def _lookup(renders: Renders, render_id: str) -> RenderJob | None:
    try:
        return await renders.get(render_id)
    except errors.NotFoundError:
        return None


async def export(
    renders: Renders,
    render_id: str,
    session_id: str,
    body: Callable[[str], dict[str, Any]],
    target: str | None = None,
) -> RenderJob:
    """The render called ``render_id``: the existing one, else one started now."""
    existing = await _lookup(renders, render_id)
    if existing is not None:
        logger.info("export %s: a render with this id exists; returning it", render_id)
        return existing
    await renders._record(render_id, session_id, target)
    try:
        job = await renders._submit(body(render_id), render_id)
    except _Unresolved as unresolved:
        raise await renders._unconfirmed(render_id, unresolved) from unresolved.error.__cause__
    except errors.NemoError:
        # Refused: a duplicate id (a concurrent or earlier submit of the same job)
        # is among the causes. Never a new id here: the caller named this render.
        found = await _lookup(renders, render_id)
        if found is None:
            await renders._forget(render_id)
            raise
        job = found
    await renders._update(job.id, status=job.status)
    return job


async def download_to_stream(
    renders: Renders,
    render_id: str,
    stream: Writable,
    on_progress: _download.DownloadProgress | None,
) -> int:
    """``renders.download`` into a stream: wait if needed, then the same sources in order."""
    job = await renders.get(render_id)
    if not job.done:
        job = await renders.wait(render_id)
    if not job.succeeded:
        raise errors.RenderFailedError(
            f"render {render_id} {job.status}: {job.error or 'no file'}",
            render_id=render_id,
            error=job.error,
        )
    sources: list[_download.Source] = []
    url = _download.http_url(job.output_url)
    if url is not None:
        sources.append(_download.Source(f"output URL {url.origin()}", url, False))
    fallback = ("api", "render", "proxy", render_id, "download")
    sources.append(_download.Source("fallback route", fallback, True))
    size = await download_to(renders._transport, sources, stream, on_progress=on_progress)
    await renders._forget(render_id)
    return size
