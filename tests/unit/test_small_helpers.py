"""The one-of-each helpers: the sync-or-async callback shim, the refusal of an existing
file, and an API error with a hint added."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from nemo_sdk import errors
from nemo_sdk.progress import Progress, call_back


async def test_call_back_calls_a_plain_function_and_awaits_a_coroutine_function() -> None:
    seen: list[object] = []

    def plain(progress: Progress) -> int:
        seen.append(("plain", progress.phase))
        return 3  # whatever a plain callback returns is ignored

    async def coroutine(sent: int, total: int | None) -> None:
        seen.append(("async", sent, total))

    await call_back(plain, Progress(phase="done"))
    await call_back(coroutine, 5, None)
    assert seen == [("plain", "done"), ("async", 5, None)]


def test_file_exists_says_the_one_remedy(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    error = errors.file_exists(target)
    assert isinstance(error, FileExistsError)
    assert str(error) == f"{target} exists; pass overwrite=True to replace it"
    assert str(errors.file_exists(target, ": placed meanwhile")).startswith(
        f"{target} exists: placed meanwhile; pass overwrite"
    )


def test_with_hint_keeps_the_class_and_every_field() -> None:
    original = errors.RateLimitError(
        "slow down", retry_after=3.0, limit="per_ip", status=429, code=None,
        request_id="req_1", body='{"code": 429}',
    )  # fmt: skip
    hinted = original.with_hint("reuse the token")
    assert type(hinted) is errors.RateLimitError and hinted is not original
    assert hinted.message == "slow down — reuse the token"
    assert hinted.args == (hinted.message,)
    assert str(hinted) == "slow down — reuse the token (HTTP 429, request id req_1)"
    assert (hinted.retry_after, hinted.limit, hinted.status, hinted.request_id, hinted.body) == (
        3.0, "per_ip", 429, "req_1", '{"code": 429}',
    )  # fmt: skip
    assert original.message == "slow down"  # the original is untouched


def test_with_hint_works_for_errors_with_required_fields_and_redacts() -> None:
    failed = errors.RenderFailedError("failed", render_id="render_1", error="boom", status=200)
    hinted = failed.with_hint("the token Bearer abcdefghijklmnopqrstuvwxyz0123 is fine")
    assert type(hinted) is errors.RenderFailedError
    assert hinted.render_id == "render_1" and hinted.error == "boom"
    assert "abcdefghijklmnopqrstuvwxyz0123" not in str(hinted)
    with pytest.raises(errors.RenderFailed):  # the deprecated alias still catches it
        raise hinted from failed
    assert pickle.loads(pickle.dumps(errors.AuthenticationError("x").with_hint("y"))).message == (
        "x — y"
    )
