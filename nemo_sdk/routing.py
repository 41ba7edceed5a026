"""What to do with a user's phrase, and with the agent's talk of buttons.

Two tables of the skill document, as code for apps that put a chat box in
front of the SDK:

* "Matching Input to Actions": export, credits, status and upload requests are
  run directly (no chat turn, no credits spent); everything else is a chat turn.
* "GUI Translation": the backend answers as if the user had an editor open
  ("click Export", "点击", "open the panel", "drag the clip", "preview in
  timeline"); :func:`suggest_actions` turns those phrases into API actions.

Matching is by keyword, English and Chinese, on word boundaries for English so
that "reexported" or "statusbar" do not match.
"""

from __future__ import annotations

import enum
import re

import attrs

__all__ = ["Action", "Route", "SuggestedAction", "route", "suggest_actions"]


class Action(str, enum.Enum):
    """An action an app runs for the user."""

    EXPORT = "export"
    """Export, wait and download (``nemo.renders``)."""
    CREDITS = "credits"
    """Show the balance (``nemo.credits.balance()``)."""
    STATE = "state"
    """Show the session's timeline (``nemo.state.get()`` and ``format_timeline``)."""
    UPLOAD = "upload"
    """Upload the user's files (``nemo.uploads``)."""
    CHAT = "chat"
    """Send the text to the agent (``nemo.chat``)."""


@attrs.frozen
class Route:
    """Where :func:`route` sends a phrase.

    Attributes:
        action: what to run.
        text: the phrase, stripped.
        keyword: the keyword that decided it (``None`` for chat).
        then: what to run after the chat turn, when the phrase asks for an edit and an
            export ("add music and export": ``CHAT`` then ``EXPORT``); else ``None``.
    """

    action: Action
    text: str
    keyword: str | None = None
    then: Action | None = None

    @property
    def skips_chat(self) -> bool:
        """True when the action runs without a chat turn (the table's "Skip SSE?")."""
        return self.action is not Action.CHAT


@attrs.frozen
class SuggestedAction:
    """A next step found in the agent's reply.

    Attributes:
        action: the API action that does what the reply asked the user to do.
        phrase: the words of the reply it was read from.
    """

    action: Action
    phrase: str


def _words(*words: str) -> str:
    return r"\b(?:" + "|".join(words) + r")\b"


# Order matters: "download the status report" is an export before it is a status.
_INPUT_RULES: tuple[tuple[Action, re.Pattern[str]], ...] = (
    (
        Action.EXPORT,
        re.compile(_words("export", "download", r"send me the video") + "|导出|下载", re.I),
    ),
    (Action.CREDITS, re.compile(_words("credits?", "balance") + "|积分|余额", re.I)),
    (
        Action.STATE,
        re.compile(_words("status", r"show (?:me )?(?:the |my )?tracks") + "|状态", re.I),
    ),
    (Action.UPLOAD, re.compile(_words("upload") + "|上传", re.I)),
)


# Words that leave an export request an export only ("export the video now, please").
_EXPORT_FILLER = re.compile(
    _words(
        "and", "then", "now", "please", "pls", "the", "a", "an", "it", "this", "that",
        "video", "clip", "file", "final", "result", "mp4", "me", "my", "to", "as", "for",
        "send", "export", "download", "render", "save", "go", "ahead", "just", "can",
        "you", "could", "would", "ok", "okay", "finally", "also",
    )
    + r"|导出|下载|视频|并且|然后|并|和|请|帮我|给我|帮|我|吧|一下|把|它|[\s\W_]+",
    re.I,
)  # fmt: skip


def _only_export(text: str) -> bool:
    return not _EXPORT_FILLER.sub("", text).strip()


def route(text: str, *, has_files: bool = False) -> Route:
    """The action for a user's phrase, per the skill's "Matching Input to Actions" table.

    ``has_files``: the user attached files, which makes it an upload whatever
    the words. Anything that matches no keyword is a chat turn. An export asked for
    together with an edit is the chat turn first, then the export (``then``)::

        >>> route("导出视频").action
        <Action.EXPORT: 'export'>
        >>> route("add lo-fi BGM at 35%").action
        <Action.CHAT: 'chat'>
        >>> picked = route("add music and export")
        >>> picked.action, picked.then
        (<Action.CHAT: 'chat'>, <Action.EXPORT: 'export'>)
    """
    stripped = text.strip()
    if has_files:
        return Route(Action.UPLOAD, stripped, None)
    for action, pattern in _INPUT_RULES:
        found = pattern.search(stripped)
        if found:
            if action is Action.EXPORT and not _only_export(stripped):
                return Route(Action.CHAT, stripped, found.group(0), then=Action.EXPORT)
            return Route(action, stripped, found.group(0))
    return Route(Action.CHAT, stripped)


_GUI_RULES: tuple[tuple[Action, re.Pattern[str]], ...] = (
    # The Export button before "click": "click Export" is an export, not a generic click.
    (
        Action.EXPORT,
        re.compile(
            r"\b(?:click|press|tap|hit)\b[^.,;!?\n]{0,30}?\bexport\b|\bexport button\b|导出", re.I
        ),
    ),
    (
        Action.CREDITS,
        re.compile(r"\bcheck (?:your |the )?(?:account|billing|balance|credits)\b|账户|充值", re.I),
    ),
    (
        Action.STATE,
        re.compile(r"\bpreview (?:it )?in (?:the )?timeline\b|\bopen\b[^.,;!?\n]{0,30}|打开", re.I),
    ),
    (Action.CHAT, re.compile(r"\bdrag\b[^.,;!?\n]{0,40}|\bdrop\b[^.,;!?\n]{0,40}|拖拽|拖动", re.I)),
    # Any other button: run what it does through the agent.
    (
        Action.CHAT,
        re.compile(r"\b(?:click|press|tap)\b[^.,;!?\n]{0,40}|点击[^。！？\n]{0,20}", re.I),
    ),
)


def suggest_actions(reply_text: str) -> list[SuggestedAction]:
    """The API actions behind the GUI instructions in an agent's reply, in reply order.

    Per the skill's "GUI Translation" table: click/点击 → run it, the Export
    button/导出 → export, open/打开 and "preview in timeline" → show the state,
    drag/drop/拖拽 → an edit through chat, "check account/billing" → credits.
    One suggestion per action, the first phrase that asked for it.
    """
    found: list[tuple[int, SuggestedAction]] = []
    taken: list[tuple[int, int]] = []
    seen: set[Action] = set()
    for action, pattern in _GUI_RULES:
        for match in pattern.finditer(reply_text):
            span = match.span()
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue
            taken.append(span)
            if action not in seen:
                seen.add(action)
                found.append((span[0], SuggestedAction(action, match.group(0).strip())))
    return [suggestion for _, suggestion in sorted(found, key=lambda pair: pair[0])]
