"""Where :class:`~nemo_sdk.ChatReply` used to live; kept importable.

``ChatReply`` is a result of the SDK, not a wire model: import it from ``nemo_sdk``.
"""

from __future__ import annotations

from .._chat.reply import ChatReply

__all__ = ["ChatReply"]
