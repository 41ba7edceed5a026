"""Whether the client's token may export, when its scopes are known (an anonymous token's
answer may list them; v1.9 gives anonymous tokens ``read, write, upload``, no ``render``)."""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["export_refusal"]

_EXPORTING = frozenset({"render", "*"})


def export_refusal(scopes: Collection[str] | None) -> str | None:
    """Why a token of ``scopes`` cannot export, or ``None`` (it can, or nobody said)."""
    if not scopes or _EXPORTING & set(scopes):
        return None
    return (
        f"this token cannot export (its scopes: {', '.join(scopes)}; exporting needs "
        "'render'): nothing was generated and no credits were spent — set NEMO_TOKEN to "
        "a registered token with the render scope"
    )
