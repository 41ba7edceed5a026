"""The session state: ``GET /api/state/nemo_agent/me/<sid>/latest`` -> ``data.state``.

API.md lists ``draft``, ``video_infos``, ``generated_media``, ``canvas_config``
and ``video_analyses`` "and more": the lesser-known fields are typed loosely
and every unknown field is kept (these are :class:`~nemo_sdk.models.draft.WireModel`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, Field, field_validator

from .draft import Draft, WireModel

__all__ = ["CanvasConfig", "SessionState"]


class CanvasConfig(WireModel):
    """The canvas: ``width``, ``height`` (pixels) and the aspect ratio (e.g. ``"16:9"``).

    The aspect ratio is read from ``aspect_ratio``, ``aspectRatio``, ``ratio``
    or ``aspect`` (no public document fixes the spelling) and written back
    under the key it came in.
    """

    width: int | float | None = None
    height: int | float | None = None
    aspect_ratio: str | int | float | None = Field(
        default=None,
        validation_alias=AliasChoices("aspect_ratio", "aspectRatio", "ratio", "aspect"),
    )


class SessionState(WireModel):
    """A session's latest state: the draft and what the agent knows of its media."""

    draft: Draft | None = None
    video_infos: list[Any] | dict[str, Any] | None = None
    generated_media: list[Any] | dict[str, Any] | None = None
    canvas_config: CanvasConfig | None = None
    video_analyses: list[Any] | dict[str, Any] | None = None
    user_id: str | None = Field(
        default=None,
        description="Owner of the session (``anon_...`` for anonymous users): "
        "the 2001 error's registration link needs it.",
    )

    @field_validator("draft", mode="before")
    @classmethod
    def _draft_from_text(cls, value: Any) -> Any:
        # Tolerate a draft stored as JSON text, as some state stores do.
        if isinstance(value, (str, bytes)) and value.strip():
            return json.loads(value)
        return value

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> SessionState:
        """Parse the ``data`` object of the state answer: ``{"state": {...}, ...}``.

        Also accepted: a bare state object and the whole envelope
        (``{"code": 0, "data": {...}}``). A ``user_id`` next to ``state`` is
        kept as :attr:`user_id` when the state itself has none.
        """
        if "code" in data and isinstance(data.get("data"), Mapping):
            data = data["data"]
        state = data.get("state")
        if not isinstance(state, Mapping):
            return cls.model_validate(data)
        parsed = cls.model_validate(state)
        outer_user = data.get("user_id")
        if parsed.user_id is None and isinstance(outer_user, str):
            parsed.user_id = outer_user
        return parsed
