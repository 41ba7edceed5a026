"""What every resource shares: the transport."""

from __future__ import annotations

from .._http import Transport


class Resource:
    """A group of API calls hung on the client (``nemo.sessions``, ``nemo.credits``...)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
