"""The skill's "Matching Input to Actions" and "GUI Translation" tables, as code."""

from __future__ import annotations

import pytest

from nemo_sdk.routing import Action, SuggestedAction, route, suggest_actions


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("export", Action.EXPORT),
        ("please export it as mp4", Action.EXPORT),
        ("导出", Action.EXPORT),
        ("帮我导出视频", Action.EXPORT),
        ("Download the video", Action.EXPORT),
        ("send me the video", Action.EXPORT),
        ("credits", Action.CREDITS),
        ("how many credits do I have?", Action.CREDITS),
        ("积分", Action.CREDITS),
        ("balance", Action.CREDITS),
        ("我的余额", Action.CREDITS),
        ("status", Action.STATE),
        ("状态", Action.STATE),
        ("show tracks", Action.STATE),
        ("show me the tracks", Action.STATE),
        ("show me a track list", Action.CHAT),
        ("upload", Action.UPLOAD),
        ("上传视频", Action.UPLOAD),
        ("generate a sunset over the ocean", Action.CHAT),
        ("add lo-fi BGM at 35%", Action.CHAT),
        ("添加背景音乐", Action.CHAT),
        ("reexported statusbar uploaded", Action.CHAT),  # whole words only
        ("", Action.CHAT),
    ],
)
def test_route_follows_the_table(text: str, action: Action) -> None:
    assert route(text).action is action


def test_route_keeps_the_keyword_and_says_whether_chat_is_skipped() -> None:
    decided = route("  Export now ")
    assert decided.keyword == "Export" and decided.text == "Export now"
    assert decided.skips_chat
    chat = route("add a title")
    assert chat.keyword is None and not chat.skips_chat


def test_attached_files_are_an_upload_whatever_the_words() -> None:
    assert route("what do you think of this?", has_files=True).action is Action.UPLOAD
    assert route("export", has_files=True).action is Action.UPLOAD


@pytest.mark.parametrize(
    ("reply", "actions"),
    [
        ("Your video is ready! Click Export to download it.", [Action.EXPORT]),
        ("视频已生成，点击导出即可下载。", [Action.EXPORT]),
        ("Open the media panel to see your clips.", [Action.STATE]),
        ("打开素材面板查看", [Action.STATE]),
        ("Preview in timeline to check the cut.", [Action.STATE]),
        ("Drag the clip to the start of the track.", [Action.CHAT]),
        ("拖拽片段到开头", [Action.CHAT]),
        ("Click the Apply button.", [Action.CHAT]),
        ("Please check your account billing page.", [Action.CREDITS]),
        (
            "Drag the title up, then preview in timeline and press Export.",
            [Action.CHAT, Action.STATE, Action.EXPORT],
        ),
        ("I added a lo-fi track at 35% volume.", []),
    ],
)
def test_gui_instructions_become_api_actions(reply: str, actions: list[Action]) -> None:
    assert [s.action for s in suggest_actions(reply)] == actions


def test_a_suggestion_names_the_words_it_came_from() -> None:
    (suggestion,) = suggest_actions("Done. Click Export when you are happy.")
    assert suggestion == SuggestedAction(Action.EXPORT, "Click Export")


@pytest.mark.parametrize(
    "text",
    ["add music and export", "trim to 5 s, then export the video", "加背景音乐然后导出"],
)
def test_an_edit_and_an_export_is_the_chat_turn_then_the_export(text: str) -> None:
    picked = route(text)
    assert picked.action is Action.CHAT and picked.then is Action.EXPORT
    assert not picked.skips_chat


@pytest.mark.parametrize(
    "text", ["export", "please export it as mp4", "帮我导出视频", "Download the video now"]
)
def test_a_pure_export_skips_the_chat(text: str) -> None:
    picked = route(text)
    assert picked.action is Action.EXPORT and picked.then is None
