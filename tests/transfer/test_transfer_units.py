"""Pure pieces: media sniffing, the render answer shapes, the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_sdk import RenderJob, UnknownRenderStatus
from nemo_sdk._files.journal import Journal
from nemo_sdk._files.media_types import extension_of, sniff
from nemo_sdk.errors import InvalidResponseError


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x00\x00\x00\x20ftypisom", "mp4"),
        (b"\x00\x00\x00\x08wide\x00\x00", "mp4"),
        (b"\x1a\x45\xdf\xa3\x9f", "mkv"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"\xff\xd8\xff\xe0", "jpg"),
        (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF89a", "gif"),
        (b"ID3\x04", "mp3"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"hello world", None),
        (b"", None),
        (b"RIFF\x00\x00\x00\x00XXXX", None),
    ],
)
def test_sniff(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


def test_extension_of() -> None:
    assert extension_of("a/b/Clip.MP4") == "mp4"
    assert extension_of("photo.jpeg") == "jpg"
    assert extension_of("noext") == ""


@pytest.mark.parametrize(
    "doc",
    [
        {"success": True, "data": {"id": "r", "status": "completed", "outputUrl": "https://c/x"}},
        {"success": True, "status": "completed", "data": {"output": {"url": "https://c/x"}}},
        {
            "success": True,
            "status": "COMPLETED",
            "data": {"taskId": "r", "output_url": "https://c/x"},
        },
    ],
)
def test_render_job_reads_every_shape(doc: dict[str, object]) -> None:
    job = RenderJob.from_api(doc, render_id="r")
    assert (job.id, job.status, job.output_url, job.succeeded) == (
        "r",
        "completed",
        "https://c/x",
        True,
    )


def test_render_job_refuses_unknown_or_missing_status() -> None:
    with pytest.raises(UnknownRenderStatus):
        RenderJob.from_api({"data": {"status": "queued-forever"}}, render_id="r")
    with pytest.raises(InvalidResponseError):
        RenderJob.from_api({"data": {}}, render_id="r")
    failed = RenderJob.from_api({"status": "failed", "error": {"message": "boom"}}, render_id="r")
    assert failed.done and not failed.succeeded and failed.error == "boom"


async def test_journal_round_trip(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "a" / "j.sqlite3")
    await journal.record("render_1", "ses_1")
    await journal.record("render_2", "ses_1")
    await journal.update("render_1", status="completed", output_url="https://c/x", bogus="ignored")
    other = Journal(journal.path)  # another process
    first, second = await other.pending()
    assert (first.render_id, first.status, first.output_url) == (
        "render_1",
        "completed",
        "https://c/x",
    )
    assert second.status == "submitting"
    await other.forget("render_1")
    assert [p.render_id for p in await journal.pending()] == ["render_2"]


async def test_unusable_journal_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    journal = Journal(blocker / "j.sqlite3")  # its folder cannot be made
    await journal.record("render_1", "ses_1")
    # Kept in this process's memory: listed, never lost to a file it cannot write.
    assert [p.render_id for p in await journal.pending()] == ["render_1"]
    assert "unusable" in caplog.text
