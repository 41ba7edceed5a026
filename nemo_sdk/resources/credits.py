"""``nemo.credits``: the credit balance."""

from __future__ import annotations

from .._http.envelope import data_of, reading
from .._http.response_info import attach
from ..models import credits as wire  # the model shares the resource's name: Credits
from ._base import Resource

__all__ = ["Credits", "CreditsResource"]


class Credits(Resource):
    """Credit calls (``nemo.credits``); the balance they return is :class:`nemo_sdk.Credits`."""

    async def balance(self) -> wire.Credits:
        """``GET /api/credits/balance/simple``: available, frozen (held by running work), total."""
        doc, info = await self._transport.answer("GET", "/api/credits/balance/simple")
        with reading("credits"):
            return attach(wire.Credits.model_validate(data_of(doc)), info)


CreditsResource = Credits
"""Deprecated alias of :class:`Credits` (the same class), its name before resources were
named like ``Renders`` and ``Sessions``."""
