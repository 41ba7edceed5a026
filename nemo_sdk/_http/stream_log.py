"""``NEMO_LOG=debug`` lines for requests: the request id on each, and streams (chat, file
downloads) logged when their answer arrives and when they end."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from .._util.logging import logger
from .envelope import request_id_of
from .response import Response

__all__ = ["log_stream_end", "log_stream_open", "request_id_note"]


def request_id_note(headers: Mapping[str, str]) -> str:
    """`` (request id req_…)`` when the answer carries one, else ``""``."""
    request_id = request_id_of(headers)
    return f" (request id {request_id})" if request_id else ""


def log_stream_open(where: str, resp: Response, started: float) -> None:
    """A stream's answer arrived (status, time to headers, request id)."""
    if logger.isEnabledFor(logging.DEBUG):
        elapsed = (time.perf_counter() - started) * 1e3
        logger.debug(
            "%s -> %s in %.1f ms, streaming%s",
            where, resp.status, elapsed, request_id_note(resp.headers),
        )  # fmt: skip


def log_stream_end(where: str, started: float) -> None:
    """A stream ended (read to its end, or left early)."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("%s stream closed after %.1f ms", where, (time.perf_counter() - started) * 1e3)
