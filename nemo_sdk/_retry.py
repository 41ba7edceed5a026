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
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Literal, NoReturn, TypeVar

from tenacity import AsyncRetrying, RetryCallState, stop_never, wait_random_exponential

from . import errors
from ._logging import logger
from .config import RetrySettings

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


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    *,
    idempotent: bool,
    settings: RetrySettings,
    reauth: Callable[[], Awaitable[None]] | None,
    renew_client_id: Callable[[], Awaitable[None]] | None,
    sleep: Sleep = asyncio.sleep,
    what: object = "request",
    first_failure: errors.NemoError | None = None,
) -> T:
    """Run ``attempt`` and apply the rules above to what it raises.

    ``first_failure``: the caller already made the first attempt, and it raised this.
    """
    can_reauth = reauth is not None
    rules = {"can_reauth": can_reauth, "can_renew_client_id": renew_client_id is not None}
    if first_failure is None:
        try:
            # The common case costs one await and no retry machinery.
            return await attempt()
        except errors.NemoError as exc:
            first_failure = exc
    first = first_failure
    if classify(first, idempotent=idempotent, settings=settings, **rules) is None:
        _raise_explained(first, can_reauth)
    limits: dict[RetryKind, int] = {
        "rate_limit": 1,
        "reauth": 1,
        "client_id": 1,
        "transient": settings.max_retries,
    }
    used: Counter[RetryKind] = Counter()
    transient_wait = wait_random_exponential(
        multiplier=settings.backoff_initial, max=settings.backoff_max
    )

    def kind_of(state: RetryCallState) -> RetryKind | None:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return None
        return classify(exc, idempotent=idempotent, settings=settings, **rules)

    def should_retry(state: RetryCallState) -> bool:
        kind = kind_of(state)
        return kind is not None and used[kind] < limits[kind]

    def wait(state: RetryCallState) -> float:
        kind = kind_of(state)
        exc = state.outcome.exception() if state.outcome else None
        if kind == "rate_limit" and isinstance(exc, errors.RateLimitError):
            return exc.retry_after if exc.retry_after is not None else settings.rate_limit_wait
        if kind == "transient":
            return float(transient_wait(state))
        return 0.0

    async def before_retry(state: RetryCallState) -> None:
        kind = kind_of(state)
        assert kind is not None
        used[kind] += 1
        exc = state.outcome.exception() if state.outcome else None
        logger.info(
            "%s failed (%s); retrying under the %s rule in %.2fs",
            what, type(exc).__name__, kind, state.upcoming_sleep,
        )  # fmt: skip
        if kind == "reauth" and reauth is not None:
            await reauth()
        elif kind == "client_id" and renew_client_id is not None:
            await renew_client_id()

    calls = 0

    async def replay_first_then_attempt() -> T:
        # The first attempt already ran above; tenacity is handed its failure
        # so that one engine decides every retry that follows.
        nonlocal calls
        calls += 1
        if calls == 1:
            raise first
        return await attempt()

    retrying = AsyncRetrying(
        retry=should_retry,
        wait=wait,
        stop=stop_never,  # each rule's own budget ends the loop
        before_sleep=before_retry,
        sleep=sleep,
        reraise=True,
    )
    try:
        return await retrying(replay_first_then_attempt)
    except errors.NemoError as exc:
        _raise_explained(exc, can_reauth)


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
