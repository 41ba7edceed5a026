"""``nemo.credits``: the credit balance."""

from __future__ import annotations

from .._envelope import data_of, reading
from .._response_info import attach
from ..models.credits import Credits
from ._base import Resource


class CreditsResource(Resource):
    """Credit calls."""

    async def balance(self) -> Credits:
        """``GET /api/credits/balance/simple``: available, frozen (held by running work), total."""
        doc, info = await self._transport.answer("GET", "/api/credits/balance/simple")
        with reading("credits"):
            return attach(Credits.model_validate(data_of(doc)), info)
