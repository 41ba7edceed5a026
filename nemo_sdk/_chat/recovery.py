"""Recovery of a chat turn whose stream dropped or timed out (API.md "POST /run_sse", seed §3.6).

The message is never sent again: the server accepted it, so the edit (and its
charge) may still land, and a second send would apply the edit twice and charge
twice. Instead: wait ``drop_wait``, read the state, then read it every
``poll_interval``; a changed draft ends the turn with an ``interrupted`` reply
that says what changed; ``unchanged_reads`` reads without a change raise
``StreamInterruptedError`` with what was received.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from .. import errors
from .._util.logging import logger
from ..config import ChatSettings
from ..models.draft import Draft
from ..models.state import SessionState
from ..timeline import diff_drafts
from .reply import ChatReply
from .text import ReplyBuilder


class StateReader(Protocol):
    """What recovery needs of ``nemo.state``: one read of a session's state."""

    async def get(self, session_id: str) -> SessionState: ...


SleepNoting = Callable[[float, float], Awaitable[float]]
"""``sleep(seconds, elapsed) -> elapsed after``: a sleep that fires the still-working notices."""


async def recover(
    state: StateReader,
    session_id: str,
    before: Draft | None,
    received: ReplyBuilder,
    *,
    reason: str,
    settings: ChatSettings,
    elapsed: float,
    sleep: SleepNoting,
    cause: BaseException | None = None,
) -> ChatReply:
    """Watch the session's draft after a broken stream; see the module docstring.

    ``cause``: the error that lost the stream, if one did; ``StreamInterruptedError`` chains it.
    """
    logger.info("chat stream for %s ended early: %s; watching the state", session_id, reason)
    wait = settings.drop_wait
    waited = 0.0
    for _ in range(settings.unchanged_reads):
        elapsed = await sleep(wait, elapsed)
        waited += wait
        wait = settings.poll_interval
        try:
            draft = (await state.get(session_id)).draft
        except (errors.APIConnectionError, errors.ServerError) as exc:
            # A failed read must not end the wait: count it as a read that showed nothing.
            logger.info("state read during chat recovery failed: %s", exc)
            continue
        diff = diff_drafts(before, draft)
        if diff.changed:
            return received.reply(session_id, diff, interrupted=True)
    raise errors.StreamInterruptedError(
        f"the chat stream ended early ({reason}) and the draft did not change in "
        f"{settings.unchanged_reads} reads over {waited:g} s; the message was not re-sent",
        session_id=session_id,
        received=received.events,
        text=received.text(),
    ) from cause


__all__ = ["SleepNoting", "recover"]
