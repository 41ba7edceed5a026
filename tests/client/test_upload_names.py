"""Upload file names reach the service as the user wrote them (RFC 7578: raw UTF-8, quoted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from nemo_sdk import NemoClient
from nemo_sdk.emulator import Emulator

NAMES = [
    "my clip é.png",
    "naïve 日本語 ü.png",
    'say "cheese".png',
    "back\\slash 100%.png",
    "semi;colon=x.png",
]


@pytest.fixture(scope="module")
def png(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("png") / "still.png"
    Image.new("RGB", (16, 9), (10, 20, 30)).save(path)
    return path.read_bytes()


@pytest.mark.parametrize("name", NAMES)
async def test_the_service_stores_the_exact_name(
    client: NemoClient, emulator: Emulator, png: bytes, name: str, tmp_path: Path
) -> None:
    session = await client.sessions.create()
    # From bytes and from a file on disk: both paths name the part the same way.
    (tmp_path / name).write_bytes(png)
    files = await client.uploads.upload(session.id, [(name, png), tmp_path / name])
    assert [f.filename for f in files] == [name, name]


async def test_line_breaks_in_a_name_are_escaped_not_sent(
    client: NemoClient, emulator: Emulator, png: bytes
) -> None:
    session = await client.sessions.create()
    files = await client.uploads.upload(session.id, [("two\r\nlines\x00.png", png)])
    # WHATWG's multipart encoding: CR and LF become %0D and %0A (no raw header break).
    assert [f.filename for f in files] == ["two%0D%0Alines%00.png"]
