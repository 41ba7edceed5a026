"""The ``nemo_sdk`` logger, with a filter that keeps bearer tokens out of every record."""

from __future__ import annotations

import logging
import os

from .secrets import redact

__all__ = [
    "RedactingFilter",
    "configure_from_env",
    "log_to_stderr",
    "logger",
    "redact",
    "warn_once",
]

logger = logging.getLogger("nemo_sdk")

_warned: set[tuple[str, str]] = set()


def warn_once(topic: str, key: str, message: str, *args: object) -> None:
    """A warning the first time ``(topic, key)`` comes up in this process; debug after.

    For conveniences that fail on every call (an unwritable config file): one line says
    so, and the log is not flooded.
    """
    first = (topic, key) not in _warned
    _warned.add((topic, key))
    (logger.warning if first else logger.debug)(message, *args)


class RedactingFilter(logging.Filter):
    """Defence in depth: we never log headers, and this scrubs tokens that slip into args."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


logger.addFilter(RedactingFilter())


def configure_from_env() -> None:
    """``NEMO_LOG=debug`` (or ``info``) sends the SDK's log to stderr, once."""
    level = os.environ.get("NEMO_LOG", "").strip().lower()
    if level in ("debug", "info"):
        log_to_stderr(level)


def log_to_stderr(level: str) -> None:
    """Send the SDK's log, at ``level`` (``debug``: every request), to stderr, once a process."""
    if getattr(logger, "_nemo_configured", False):
        if level == "debug":  # a client with log_requests=True after NEMO_LOG=info
            logger.setLevel(logging.DEBUG)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s nemo_sdk %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)
    logger._nemo_configured = True  # type: ignore[attr-defined]
