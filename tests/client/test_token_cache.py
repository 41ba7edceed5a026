"""One anonymous token per client id per 7 days: the strict rule, its error, the token cache.

Every client here keeps its client id in the test's ``$XDG_CONFIG_HOME`` (the
``isolated_env`` fixture), so two clients are two runs of one program on one machine.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk import AuthenticationError, ConfigurationError, NemoClient, RateLimitError
from nemo_sdk.config import ClientConfig
from nemo_sdk.emulator import Emulator

from ..conftest import FAST_RETRY


@pytest.fixture
async def strict() -> AsyncIterator[Emulator]:
    """An emulator that refuses a second token to a client id that holds a live one."""
    async with Emulator(reissue_client_tokens=False, render_seconds=0.05) as emu:
        yield emu


def client(emu: Emulator, **kwargs: Any) -> NemoClient:
    return NemoClient(base_url=emu.url, retry=FAST_RETRY, **kwargs)


def held_token(emu: Emulator, nemo: NemoClient) -> str:
    """The anonymous token the emulator issued to this client's id (read server-side)."""
    return emu.store.client_tokens[nemo.auth.client_id]


def kept(path: Path, emu: Emulator) -> dict[str, Any]:
    entry = json.loads(path.read_text(encoding="utf-8"))[emu.url]
    assert isinstance(entry, dict)
    return entry


async def test_second_run_without_cache_is_refused_naming_the_limit(strict: Emulator) -> None:
    async with client(strict) as first:
        await first.credits.balance()
        token = held_token(strict, first)
    async with client(strict) as second:
        assert second.auth.client_id == first.auth.client_id  # persisted on disk
        with pytest.raises(RateLimitError) as info:
            await second.credits.balance()
    error = info.value
    assert error.limit == "per_client"
    assert error.retry_after is not None and error.retry_after > 6 * 86400
    assert strict.count("token") == 2  # one each: the 7-day wait is not waited out
    message = str(error)
    assert "per-client limit" in message
    assert "token=" in message and "NEMO_TOKEN" in message  # pass the earlier token...
    assert "token_cache=True" in message and "NEMO_TOKEN_CACHE" in message  # ...or cache it
    for text in (message, repr(error), error.body or ""):
        assert token not in text


async def test_per_ip_limit_is_named_too() -> None:
    async with Emulator(tokens_per_ip=1) as emu:
        async with client(emu, client_id="11111111-1111-4111-8111-111111111111") as first:
            await first.credits.balance()
        async with client(emu, client_id="22222222-2222-4222-8222-222222222222") as second:
            with pytest.raises(RateLimitError) as info:
                await second.credits.balance()
    assert info.value.limit == "per_ip"
    assert "per-IP limit" in str(info.value)
    assert "per-client" not in str(info.value)


async def test_cache_lets_the_second_run_reuse_the_token(strict: Emulator, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "tokens.json"
    async with client(strict, token_cache=cache) as first:
        session = await first.sessions.create(language="en")
        token = held_token(strict, first)
    assert strict.count("token") == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert kept(cache, strict)["token"] == token
    async with client(strict, token_cache=cache) as second:
        await second.auth.ensure_token()  # the kept one: no request
        assert second.auth.user_id == first.auth.user_id
        state = await second.state.get(session.id)  # the first run's session is ours
    assert state.user_id == session.user_id
    assert strict.count("token") == 1  # the second run asked for none


async def test_a_supplied_token_is_never_written(emulator: Emulator, tmp_path: Path) -> None:
    cache = tmp_path / "tokens.json"
    registered = emulator.issue_token()
    async with client(
        emulator, token=registered, token_cache=cache, allow_anonymous_reauth=True
    ) as nemo:
        await nemo.credits.balance()
        emulator.store.expire(registered)
        await nemo.credits.balance()  # renewed anonymously, as allowed...
        assert nemo._transport.tokens.current not in (None, registered)
    assert emulator.count("token") == 1
    assert not cache.exists()  # ...but a client given a token keeps nothing on disk


async def test_nemo_token_is_never_written_nor_replaced_by_a_kept_one(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "tokens.json"
    async with client(emulator, token_cache=cache) as anonymous:
        await anonymous.credits.balance()
    before = cache.read_bytes()
    registered = emulator.issue_token()
    monkeypatch.setenv("NEMO_TOKEN", registered)
    async with client(emulator, token_cache=cache) as nemo:
        await nemo.credits.balance()
        assert nemo._transport.tokens.current == registered
    assert cache.read_bytes() == before
    assert registered not in cache.read_text()


@pytest.mark.parametrize("how", ["revoke", "expire"])
async def test_a_rejected_cached_token_is_replaced_with_one_request(
    strict: Emulator, tmp_path: Path, how: str
) -> None:
    cache = tmp_path / "tokens.json"
    async with client(strict, token_cache=cache) as first:
        await first.credits.balance()
        old = held_token(strict, first)
    if how == "revoke":
        strict.store.tokens[old].revoked = True
    else:
        strict.store.expire(old)
    async with client(strict, token_cache=cache) as second:
        await second.credits.balance()  # 1001 with the kept token, then a new one
        new = second._transport.tokens.current
    assert strict.count("token") == 2  # the first run's, and exactly one renewal
    assert strict.count("credits") == 3
    assert new is not None and new != old
    assert kept(cache, strict)["token"] == new
    assert old not in cache.read_text()


async def test_a_rejected_cached_token_is_forgotten_even_if_renewal_fails(
    emulator: Emulator, tmp_path: Path
) -> None:
    cache = tmp_path / "tokens.json"
    async with client(emulator, token_cache=cache) as first:
        await first.credits.balance()
        old = held_token(emulator, first)
    emulator.store.expire(old)
    emulator.faults.add("token", "500")  # the token call is not retried after a 5xx
    async with client(emulator, token_cache=cache) as second:
        with pytest.raises(Exception) as info:
            await second.credits.balance()
    assert not isinstance(info.value, AuthenticationError)
    assert emulator.url not in json.loads(cache.read_text())
    assert old not in cache.read_text()


async def test_a_corrupt_cache_is_ignored_and_rewritten(strict: Emulator, tmp_path: Path) -> None:
    cache = tmp_path / "tokens.json"
    cache.write_text("{not json", encoding="utf-8")
    cache.chmod(0o644)
    async with client(strict, token_cache=cache) as first:
        await first.credits.balance()
        token = held_token(strict, first)
    assert kept(cache, strict)["token"] == token
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    async with client(strict, token_cache=cache) as second:
        await second.credits.balance()
    assert strict.count("token") == 1


async def test_a_cache_that_cannot_be_read_or_written_is_no_error(
    emulator: Emulator, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    unusable = a_file / "tokens.json"  # its directory is a file: nothing can be written
    async with client(emulator, token_cache=unusable) as nemo:
        await nemo.credits.balance()
        await nemo.credits.balance()
    assert emulator.count("token") == 1  # kept in memory for the run
    assert sorted(os.listdir(tmp_path)) == ["a-file", "xdg"]  # no litter


async def test_a_directory_as_the_cache_is_refused_before_anything_is_sent(
    emulator: Emulator, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="token_cache"):
        client(emulator, token_cache=tmp_path)
    assert emulator.requests == []


async def test_nemo_token_cache_env_turns_it_on(
    emulator: Emulator, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = isolated_env / "nemovideo" / "tokens.json"
    monkeypatch.setenv("NEMO_TOKEN_CACHE", "1")
    async with client(emulator) as nemo:
        assert nemo.config.token_cache == default
        await nemo.credits.balance()
        token = held_token(emulator, nemo)
    assert kept(default, emulator)["token"] == token
    # A path names the file; off values and an explicit False turn it off.
    elsewhere = tmp_path / "mine.json"
    assert ClientConfig.resolve(env={"NEMO_TOKEN_CACHE": str(elsewhere)}).token_cache == elsewhere
    assert ClientConfig.resolve(env={"NEMO_TOKEN_CACHE": "true"}).token_cache is not None
    assert ClientConfig.resolve(env={"NEMO_TOKEN_CACHE": "0"}).token_cache is None
    assert ClientConfig.resolve(env={}).token_cache is None  # off by default
    assert (
        ClientConfig.resolve(token_cache=False, env={"NEMO_TOKEN_CACHE": "1"}).token_cache is None
    )


async def test_the_kept_token_is_in_no_repr_or_log(
    strict: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="nemo_sdk")
    cache = tmp_path / "tokens.json"
    async with client(strict, token_cache=cache) as first:
        await first.credits.balance()
        token = held_token(strict, first)
    async with client(strict, token_cache=cache) as second:
        await second.credits.balance()
        tokens = second._transport.tokens
        assert tokens.current == token  # the kept one is in use
        texts = [repr(second), repr(second.config), str(second.config), repr(tokens)]
        texts += [repr(tokens._cache), repr(tokens._cache.load(strict.url))]
    texts += [record.getMessage() for record in caplog.records]
    assert f"token_cache={cache!r}" in repr(second.config)  # the path shows, the token not
    for text in texts:
        assert token not in text
