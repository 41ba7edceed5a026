"""Waits from the environment, so an app's own client runs at test speed under test.

``NEMO_RENDER_POLL_INTERVAL`` (a fixed render poll, seconds; unset: the adaptive schedule),
``NEMO_RENDER_POLL_FLOOR`` (the adaptive schedule's least gap, 2 s), and the chat waits
``NEMO_CHAT_DROP_WAIT`` / ``NEMO_CHAT_POLL_INTERVAL`` (:class:`ChatSettings`). The
pytest plugin's ``nemo_env`` sets them all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .config import ChatSettings
from .errors import ConfigurationError

__all__ = ["chat_from_env", "seconds_from_env"]


def seconds_from_env(env: Mapping[str, str], name: str) -> float | None:
    """``env[name]`` as a positive number of seconds; ``None`` when unset or empty."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def chat_from_env(env: Mapping[str, str]) -> ChatSettings:
    """The default :class:`ChatSettings`, with the waits the environment sets."""
    drop = seconds_from_env(env, "NEMO_CHAT_DROP_WAIT")
    poll = seconds_from_env(env, "NEMO_CHAT_POLL_INTERVAL")
    defaults = ChatSettings()
    return ChatSettings(
        drop_wait=defaults.drop_wait if drop is None else drop,
        poll_interval=defaults.poll_interval if poll is None else poll,
    )
