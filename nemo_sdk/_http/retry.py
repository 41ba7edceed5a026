"""Every retry rule of the API, in one place (API.md, "Error codes").

| what failed                         | rule                                                  |
|-------------------------------------|-------------------------------------------------------|
| HTTP 429                            | wait ``Retry-After`` (seconds or date) or 30 s, retry |
|                                     | once; a wait past the cap is not waited out           |
| code 1001 / HTTP 401                | re-acquire an anonymous token (same client id), retry |
|                                     | once; not for a user-supplied token unless allowed    |
| HTTP 400 on the token call, with no | make and persist a client id, retry once; never when  |
| other code ("missing X-Client-Id")  | the user configured the id (it is theirs to fix)      |
| connection error, timeout, HTTP 5xx | idempotent requests only: bounded exponential back-off|
|                                     | with jitter, ``max_retries`` times                    |
| anything else (402, 1002, 2001, ...) | never retried                                        |

A request that creates something (a session, a render, a chat message) is not
re-sent after a connection error or a 5xx: the server may have acted on it
already, and a second copy would make a second session or apply (and charge
for) an edit twice. 429 and 1001 are safe to retry for every request: the
server refused those before doing anything. ``X-Client-Id`` belongs to the token
call alone (API.md, "POST /api/auth/anonymous-token"), so only there is a 400 the
client-id rule; elsewhere a 400 is a ``BadRequestError``, never re-sent. The
status and the code decide, never the words of the message.

One plain loop applies the table: the first attempt is the loop's first turn (no
machinery before it), and each rule's budget ends the loop. tenacity's
``AsyncRetrying`` measured about 150 µs per call on this path (the SDK's whole
budget for a loopback request), so the loop is ours and the back-off is tenacity's
own ``wait_random_exponential`` (full jitter), asked only after a transient failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal, NoReturn, TypeVar

from .. import errors
from .._util.logging import logger
from ..config import RetrySettings

__all__ = ["RetryKind", "Sleep", "classify", "with_retries"]

T = TypeVar("T")
RetryKind = Literal["rate_limit", "reauth", "client_id", "transient"]
Sleep = Callable[[float], Awaitable[None]]


def classify(
    exc: BaseException,
    *,
    idempotent: bool,
    settings: RetrySettings,
    can_reauth: bool,
    can_renew_client_id: bool = False,
) -> RetryKind | None:
    """Which rule, if any, lets this failure be retried."""
    if isinstance(exc, errors.RateLimitError):
        if exc.retry_after is not None and exc.retry_after > settings.max_rate_limit_wait:
            return None
        return "rate_limit"
    if isinstance(exc, errors.AuthenticationError):
        return "reauth" if can_reauth else None
    if isinstance(exc, errors.MissingClientIdError):
        return "client_id" if can_renew_client_id else None
    if isinstance(exc, errors.ServerError | errors.APIConnectionError):
        return "transient" if idempotent else None
    return None


def _wait(kind: RetryKind, exc: errors.NemoError, settings: RetrySettings, number: int) -> float:
    if kind == "rate_limit" and isinstance(exc, errors.RateLimitError):
        return exc.retry_after if exc.retry_after is not None else settings.rate_limit_wait
    if kind == "transient":
        return _backoff(settings, number)
    return 0.0


def _backoff(settings: RetrySettings, number: int) -> float:
    """tenacity's full jitter: uniform up to ``backoff_initial * 2**(number-1)``, capped."""
    import tenacity  # only after a failure: the success path never loads it

    state = tenacity.RetryCallState(
        retry_object=tenacity.AsyncRetrying(), fn=None, args=(), kwargs={}
    )
    state.attempt_number = number
    wait = tenacity.wait_random_exponential(
        multiplier=settings.backoff_initial, max=settings.backoff_max
    )
    return float(wait(state))


async def with_retries(
    attempt: Callable[[int], Awaitable[T]],
    *,
    idempotent: bool,
    settings: RetrySettings,
    reauth: Callable[[], Awaitable[None]] | None,
    renew_client_id: Callable[[], Awaitable[None]] | None,
    sleep: Sleep = asyncio.sleep,
    what: object = "request",
) -> T:
    """Run ``attempt(number)`` (1, 2...) and apply the rules above to what it raises."""
    number = 0
    used: dict[RetryKind, int] = {}
    while True:
        number += 1
        try:
            return await attempt(number)
        except errors.NemoError as exc:
            kind = classify(
                exc,
                idempotent=idempotent,
                settings=settings,
                can_reauth=reauth is not None,
                can_renew_client_id=renew_client_id is not None,
            )
            limit = settings.max_retries if kind == "transient" else 1
            if kind is None or used.get(kind, 0) >= limit:
                _raise_explained(exc, reauth is not None)
            used[kind] = used.get(kind, 0) + 1
            delay = _wait(kind, exc, settings, number)
            logger.info(
                "%s failed (%s); retrying under the %s rule in %.2fs",
                what, type(exc).__name__, kind, delay,
            )  # fmt: skip
            if kind == "reauth" and reauth is not None:
                await reauth()
            elif kind == "client_id" and renew_client_id is not None:
                await renew_client_id()
            await sleep(delay)


def _raise_explained(exc: errors.NemoError, can_reauth: bool) -> NoReturn:
    """Re-raise, adding what the caller can do to an auth error whose rule has run out."""
    if isinstance(exc, errors.AuthenticationError):
        hint = (
            "the token was rejected again after getting a new anonymous token"
            if can_reauth
            else "the token you supplied (argument or NEMO_TOKEN) is expired or revoked and "
            "re-authentication is not allowed for it: set a fresh NEMO_TOKEN, or pass "
            "allow_anonymous_reauth=True to fall back to an anonymous token"
        )
        raise exc.with_hint(hint) from exc
    raise exc
