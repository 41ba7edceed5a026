"""The events split: wire event types, their parser and the handlers are three modules,
``nemo_sdk.events`` still names them all, and a ``ChatReply`` is built in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import nemo_sdk
import nemo_sdk.events
import nemo_sdk.models.chat
from nemo_sdk._chat import events as _chat_events
from nemo_sdk._chat import handlers as _handlers
from nemo_sdk._chat import parser as _event_parser
from nemo_sdk._chat import reply as _chat_reply
from nemo_sdk._chat.text import ReplyBuilder
from nemo_sdk.events import TextDelta
from nemo_sdk.models.draft import Draft
from nemo_sdk.timeline import diff_drafts

PACKAGE = Path(nemo_sdk.__file__).parent


def test_every_public_name_of_events_is_the_defining_modules_object() -> None:
    homes = (_chat_events, _event_parser, _handlers)
    for name in nemo_sdk.events.__all__:
        owners = [m for m in homes if name in m.__all__]
        assert len(owners) == 1, name
        assert getattr(nemo_sdk.events, name) is getattr(owners[0], name)


def test_chat_reply_is_one_class_under_its_old_and_new_homes() -> None:
    assert nemo_sdk.ChatReply is _chat_reply.ChatReply is nemo_sdk.models.chat.ChatReply


def test_the_event_types_module_depends_on_nothing_of_the_sdk() -> None:
    tree = ast.parse((PACKAGE / "_chat" / "events.py").read_text(encoding="utf-8"))
    ours = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert ours == []


def test_a_chat_reply_is_constructed_only_by_the_reply_builder() -> None:
    builders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "ChatReply"
                and any(k.arg in ("text", "events") for k in node.keywords)
            ):
                builders.append(path.relative_to(PACKAGE).as_posix())
    assert builders == ["_chat/text.py"]


def test_the_reply_builder_builds_the_reply_with_the_diff_and_suggestions() -> None:
    builder = ReplyBuilder()
    builder.add(TextDelta("Done. Click Export to render it."))
    before = Draft()
    after = Draft.from_wire({"t": [{"tt": 0, "sg": [{"u": "a.mp4"}]}]})
    reply = builder.reply("s1", diff_drafts(before, after), interrupted=True)
    assert reply.session_id == "s1"
    assert reply.text == "Done. Click Export to render it."
    assert reply.draft_changed and reply.interrupted and reply.summary
    assert [a.action.value for a in reply.suggested_actions] == ["export"]
    unchanged = builder.reply("s1", diff_drafts(before, before))
    assert not unchanged.draft_changed and unchanged.summary is None
    assert not unchanged.interrupted
