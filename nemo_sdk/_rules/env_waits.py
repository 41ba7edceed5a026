"""Waits from the environment, so an app's own client runs at test speed under test.

``NEMO_RENDER_POLL_INTERVAL`` (a fixed render poll, seconds; unset: the adaptive schedule)
and ``NEMO_RENDER_POLL_FLOOR`` (the adaptive schedule's least gap, 2 s) fill
:class:`RenderSettings`; ``NEMO_CHAT_DROP_WAIT`` / ``NEMO_CHAT_POLL_INTERVAL`` fill
:class:`ChatSettings` (0 there means 0: read the state at once). Each applies when the
client is given no group of its own (``config._chat_from_env``, ``config._render_from_env``).
The pytest plugin's ``nemo_env`` sets them all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import ConfigurationError

__all__ = ["seconds_from_env"]


def seconds_from_env(env: Mapping[str, str], name: str, *, zero: bool = False) -> float | None:
    """``env[name]`` as a number of seconds above zero (or zero, if ``zero``); ``None`` if unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        least = "zero or more" if zero else "above zero"
        raise ConfigurationError(f"{name} must be a number of seconds {least}, got {raw!r}")
    return value
