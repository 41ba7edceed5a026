"""The token cache under concurrent writers, and its trust in ``expires_at``."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from nemo_sdk import NemoClient
from nemo_sdk._http.token_cache import SKEW_MARGIN, TokenCache
from nemo_sdk.emulator import Emulator
from nemo_sdk.models.session import AnonymousToken

from ..conftest import FAST_RETRY

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from nemo_sdk._http.token_cache import TokenCache
    from nemo_sdk.models.session import AnonymousToken

    path, me, keys, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    cache = TokenCache(path)
    while not go.exists():
        time.sleep(0.001)
    for key in range(keys):
        token = AnonymousToken(token=f"nmv_usr_{me}_{key}", user_id=f"anon_{me}")
        cache.save(f"http://api-{me}-{key}.test", token)
    """
)


def test_concurrent_writers_lose_no_entry(tmp_path: Path) -> None:
    path, go = tmp_path / "tokens.json", tmp_path / "go"
    writers, keys = 8, 12
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(i), str(keys), str(go)])
        for i in range(writers)
    ]
    time.sleep(0.5)  # every interpreter up and polling
    go.touch()
    assert [p.wait(timeout=60) for p in procs] == [0] * writers
    kept = json.loads(path.read_text())
    missing = {f"http://api-{i}-{k}.test" for i in range(writers) for k in range(keys)} - set(kept)
    assert not missing, f"{len(missing)} of {writers * keys} entries lost"
    assert not list(tmp_path.glob(".tokens.json.*.tmp"))


def _kept_with(tmp_path: Path, expires_in: float) -> TokenCache:
    cache = TokenCache(tmp_path / "tokens.json")
    expires = datetime.now(timezone.utc) + timedelta(seconds=expires_in)
    cache.save("http://api.test", AnonymousToken(token="nmv_usr_kept", expires_at=expires))
    return cache


@pytest.mark.parametrize(
    ("expires_in", "trusted"),
    [(23 * 3600.0, True), (3600.0, True), (3 * SKEW_MARGIN, True), (SKEW_MARGIN / 2, False),
     (-5.0, False)],
    ids=["23h", "1h", "3-margins", "half-margin", "expired"],
)  # fmt: skip
def test_expires_at_is_trusted_but_for_clock_skew(
    tmp_path: Path, expires_in: float, trusted: bool
) -> None:
    kept = _kept_with(tmp_path, expires_in).load("http://api.test")
    assert (kept is not None) is trusted


async def test_a_token_in_its_last_day_is_used_not_refetched(
    tmp_path: Path,
) -> None:
    async with Emulator(reissue_client_tokens=False) as strict:
        cache = tmp_path / "tokens.json"
        async with NemoClient(base_url=strict.url, retry=FAST_RETRY, token_cache=cache) as first:
            await first.credits.balance()
        # The service's token now has 2 hours left: still good, and the service would
        # refuse this client id another one (one per client id per 7 days).
        entry = json.loads(cache.read_text())[strict.url]
        entry["expires_at"] = time.time() + 2 * 3600
        cache.write_text(json.dumps({strict.url: entry}))
        async with NemoClient(base_url=strict.url, retry=FAST_RETRY, token_cache=cache) as second:
            await second.credits.balance()
        assert strict.count("token") == 1
