"""Behind google-adk's own server, a chat reply's answer has no request id (ADK sends none)."""

from __future__ import annotations

import pytest

from nemo_sdk import response_info
from tests.adk.conftest import Rig

pytestmark = [pytest.mark.adk, pytest.mark.slow, pytest.mark.xdist_group("adk")]


async def test_an_adk_reply_has_its_streams_status_and_headers_and_no_request_id(
    adk: Rig,
) -> None:
    reply = await adk.nemo.chat.send(adk.session_id, "case:text")
    info = response_info(reply)
    assert info is not None and info.status == 200
    assert info.headers["Content-Type"].startswith("text/event-stream")
    assert info.request_id is None  # FastAPI's answer names none: quote the session id instead
