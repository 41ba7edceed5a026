"""``nemo.state``: a session's latest state and draft."""

from __future__ import annotations

from .._http import check_id
from .._http.envelope import data_of, reading
from .._http.response_info import attach
from ..models.state import SessionState
from ._base import Resource

__all__ = ["State", "StateResource"]


class State(Resource):
    """State calls (``nemo.state``)."""

    async def get(self, session_id: str) -> SessionState:
        """``GET /api/state/nemo_agent/me/<sid>/latest``, with the draft parsed into models."""
        sid = check_id("session id", session_id)
        doc, info = await self._transport.answer(
            "GET", ("api", "state", "nemo_agent", "me", sid, "latest")
        )
        with reading("state"):
            state = attach(SessionState.from_api(data_of(doc)), info)
        tokens = self._transport.tokens
        if tokens.user_id is None and state.user_id:
            tokens.user_id = state.user_id
        return state


StateResource = State
"""Deprecated alias of :class:`State` (the same class), its name before resources were
named like ``Renders`` and ``Sessions``."""
