"""An unusable config directory costs the conveniences, never a call.

The client id file and the token cache are conveniences: when the directory is
read-only, a file, or otherwise unwritable, the client keeps them in memory for the
run and says so once, in a warning that carries no secret.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from nemo_sdk import NemoClient
from nemo_sdk._util import logging as _logging
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test is a new process as far as "warn once" goes."""
    monkeypatch.setattr(_logging, "_warned", set())


def unusable_homes(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("I am a file\n")
    homes = {"xdg-is-a-file": a_file, "xdg-under-proc": Path("/proc/self")}
    if os.geteuid() != 0:  # root writes through a read-only mode
        read_only = tmp_path / "read-only"
        read_only.mkdir(mode=0o500)
        homes["read-only"] = read_only
    return homes


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "anonymous"])
@pytest.mark.parametrize("home", ["xdg-is-a-file", "xdg-under-proc", "read-only"])
async def test_calls_work_with_an_unwritable_config_dir(
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    home: str,
    with_token: bool,
) -> None:
    homes = unusable_homes(tmp_path)
    if home not in homes:
        pytest.skip("running as root: a read-only mode does not stop writes")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(homes[home]))
    caplog.set_level(logging.WARNING, logger="nemo_sdk")
    token = emulator.issue_token() if with_token else None
    kwargs = {"token_cache": True} if not with_token else {}
    async with NemoClient(
        base_url=emulator.url, token=token, retry=FAST_RETRY, journal_path=False, **kwargs
    ) as nemo:
        for _ in range(3):
            assert (await nemo.credits.balance()).available >= 0
        client_id = nemo.auth.client_id
        token_used = nemo._transport.tokens.current
    assert token_used is not None
    ids = {r.headers["X-Client-Id"] for r in emulator.requests}
    assert ids == {client_id}  # one id for the whole run, even unpersisted
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len([w for w in warnings if "client id" in w]) == 1, warnings
    if not with_token:
        assert len([w for w in warnings if "token cache" in w]) == 1, warnings
    for text in warnings:
        assert token_used not in text and "nmv_" not in text


async def test_a_renewed_client_id_that_cannot_be_written_stays_in_memory(
    emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    cid_path = a_file / "client_id"  # its directory is a file: nothing can be written
    emulator.faults.add("token", "400")
    caplog.set_level(logging.WARNING, logger="nemo_sdk")
    async with NemoClient(
        base_url=emulator.url, client_id_path=cid_path, retry=FAST_RETRY, journal_path=False
    ) as nemo:
        await nemo.credits.balance()
        renewed = nemo.auth.client_id
    token_ids = [r.headers["X-Client-Id"] for r in emulator.requests if r.route == "token"]
    assert len(token_ids) == 2 and token_ids[1] == renewed != token_ids[0]
    assert a_file.read_text() == "not a directory\n"
