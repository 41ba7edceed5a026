"""Fleet primitives: many workers, one identity (engine-neutral).

A job that moves to another worker must find its session and render there.
Anonymous tokens see only their own sessions, so every worker of a fleet
uses one registered token from the fleet's own secret store. These helpers
fetch it through a provider hook (asked again when the service says the
token expired) and refuse an anonymous client before any work is done.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from . import errors
from .client import NemoClient


@runtime_checkable
class TokenSource(Protocol):
    """An object that hands out the fleet's token (a secret store client)."""

    async def get_token(self) -> str:
        """The bearer token every worker shares."""
        ...


TokenProvider = Callable[[], Awaitable[str]] | Callable[[], str] | TokenSource
"""An async (or plain) callable returning the token, or a :class:`TokenSource`."""


async def resolve_token(provider: TokenProvider) -> str:
    """The token ``provider`` gives; a clear error if it gives none."""
    if isinstance(provider, TokenSource):
        token: Any = await provider.get_token()
    elif callable(provider):
        token = provider()
        if inspect.isawaitable(token):
            token = await token
    else:
        raise errors.ConfigurationError("token provider must be callable or have get_token()")
    if not isinstance(token, str) or not token.strip():
        raise errors.ConfigurationError("the token provider returned no token")
    return token.strip()


async def fleet_client(provider: TokenProvider, **options: Any) -> NemoClient:
    """A ``NemoClient`` holding the fleet's shared token (``options`` as ``NemoClient``).

    A fleet rotates its secrets: when the service answers 1001 (the token expired
    or was revoked), ``provider`` is asked again, once however many calls met the
    1001 together (they wait for it), and those calls are sent again with the new
    token. No anonymous token is ever fetched. Copies made by ``with_options``
    share the provider.
    """
    nemo = NemoClient(token=await resolve_token(provider), **options)
    tokens = nemo._transport.tokens  # the client's one token manager, shared by its copies
    tokens.provider = functools.partial(resolve_token, provider)
    tokens.can_refresh = True
    return nemo


def require_shared_identity(nemo: NemoClient, store: str = "a shared job store") -> None:
    """Refuse an anonymous token for work that other workers may resume.

    Raises:
        ConfigurationError: the client would mint its own anonymous token, whose
            sessions and renders no other worker can see (a moved job would 404).
    """
    if nemo.config.token_source == "anonymous":
        raise errors.ConfigurationError(
            f"{store} needs one registered token shared by every worker (pass token= "
            "or a token provider, or set NEMO_TOKEN): an anonymous token's sessions and "
            "renders are visible to that token only, so a job moved to another worker "
            "would fail with 404"
        )


__all__ = [
    "TokenProvider",
    "TokenSource",
    "fleet_client",
    "require_shared_identity",
    "resolve_token",
]
