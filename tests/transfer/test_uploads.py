"""Uploads (API.md, "POST /api/upload-video"): checks before sending, streaming, progress."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from nemo_sdk import (
    BadRequestError,
    FileTooLarge,
    InvalidArgument,
    NemoClient,
    UnsupportedFileType,
    UploadedFile,
)
from nemo_sdk.emulator import Emulator
from nemo_sdk.errors import ACCEPTED_FORMATS, MAX_UPLOAD_BYTES


async def test_paths_bytes_and_file_objects_in_one_request(
    client: NemoClient, emulator: Emulator, session_id: str, media: dict[str, Path]
) -> None:
    seen: list[tuple[int, int]] = []
    with open(media["clip"], "rb") as fh:  # noqa: ASYNC230 - a local test file
        files = await client.uploads.upload(
            session_id,
            [media["clip"], ("still.png", media["still"].read_bytes()), fh],
            on_progress=lambda sent, total: seen.append((sent, total)),
        )
    assert emulator.count("upload") == 1
    assert [f.file_type for f in files] == ["video", "image", "video"]
    assert all(isinstance(f, UploadedFile) and f.cdn_url for f in files)
    clip = files[0]
    assert (clip.width, clip.height, clip.fps) == (160, 90, 12.0)
    assert clip.duration == pytest.approx(1.0, abs=0.1)
    total = 2 * media["clip"].stat().st_size + media["still"].stat().st_size
    assert seen[-1] == (total, total)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    state = await client.state.get(session_id)
    assert state.video_infos is not None and len(state.video_infos) == 3


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda m: m["notes"], UnsupportedFileType),  # a .mp4 that is a text file
        (lambda m: m["txt"], UnsupportedFileType),  # extension not accepted
        (lambda m: m["clip"].with_name("missing.mp4"), FileNotFoundError),
        (lambda m: b"just some text, no media", UnsupportedFileType),
        (lambda m: ("clip.exe", m["clip"].read_bytes()), UnsupportedFileType),
        (lambda m: io.BytesIO(b"hello"), UnsupportedFileType),
        (lambda m: 42, InvalidArgument),
    ],
    ids=["text-as-mp4", "txt", "missing", "bytes-not-media", "bad-extension", "stream", "int"],
)
async def test_bad_inputs_are_refused_before_sending(
    client: NemoClient, emulator: Emulator, session_id: str, media: dict[str, Path],
    make, error: type[Exception],
) -> None:  # fmt: skip
    with pytest.raises(error) as info:
        await client.uploads.upload(session_id, [media["clip"], make(media)])
    assert emulator.count("upload") == 0
    if isinstance(info.value, UnsupportedFileType):
        assert info.value.accepted_formats == ACCEPTED_FORMATS
        assert "mp4" in str(info.value) and "m4a" in str(info.value)


async def test_too_large_is_refused_before_sending(
    client: NemoClient, emulator: Emulator, session_id: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.mp4"
    with open(big, "wb") as fh:  # noqa: ASYNC230 - sparse: costs no disk
        fh.truncate(MAX_UPLOAD_BYTES + 1)
    with pytest.raises(FileTooLarge) as info:
        await client.uploads.upload(session_id, big)
    assert info.value.size == MAX_UPLOAD_BYTES + 1
    assert emulator.count("upload") == 0


async def test_unseekable_stream_is_refused(
    client: NemoClient, emulator: Emulator, session_id: str, media: dict[str, Path]
) -> None:
    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

    with pytest.raises(InvalidArgument, match="seekable"):
        await client.uploads.upload(session_id, Pipe())  # type: ignore[arg-type]
    assert emulator.count("upload") == 0


@pytest.mark.parametrize(("code", "error"), [("4001", UnsupportedFileType), ("4002", FileTooLarge)])
async def test_server_codes_map_to_the_same_errors(
    client: NemoClient, emulator: Emulator, session_id: str, media: dict[str, Path],
    code: str, error: type[Exception],
) -> None:  # fmt: skip
    emulator.faults.add("upload", code)
    with pytest.raises(error):
        await client.uploads.upload(session_id, media["clip"])


async def test_rate_limited_upload_is_resent_from_the_start(
    client: NemoClient, emulator: Emulator, session_id: str, media: dict[str, Path]
) -> None:
    emulator.faults.add("upload", "429", retry_after="0")
    with open(media["clip"], "rb") as fh:  # noqa: ASYNC230 - a local test file
        files = await client.uploads.upload(session_id, ("clip.mp4", fh))
    assert emulator.count("upload") == 2
    assert files[0].file_type == "video"  # the second request re-read the stream from its start


async def test_url_uploads(
    client: NemoClient, emulator: Emulator, session_id: str, media: dict[str, Path]
) -> None:
    (first,) = await client.uploads.upload(session_id, media["clip"])
    assert first.cdn_url is not None
    (copy,) = await client.uploads.upload_urls(session_id, first.cdn_url)
    assert copy.hash == first.hash and copy.file_type == "video"
    with pytest.raises(BadRequestError, match="outside network"):
        await client.uploads.upload_urls(session_id, ["https://example.com/clip.mp4"])
    before = emulator.count("upload")
    with pytest.raises(InvalidArgument):
        await client.uploads.upload_urls(session_id, ["file:///etc/passwd"])
    assert emulator.count("upload") == before
