"""The pytest plugin users get: their own app's tests run offline against the emulator."""

from __future__ import annotations

import asyncio
import os

import pytest

from nemo_sdk import NemoClient
from nemo_sdk.emulator.threaded import emulator_in_thread
from nemo_sdk.testing import FAST_RETRY

USER_TESTS = """
import pytest
from nemo_sdk import NemoClient, RateLimitError

# A user's app: a function that makes its own client from the environment.
async def app_balance() -> int:
    async with NemoClient() as nemo:
        return (await nemo.credits.balance()).available


@pytest.mark.asyncio
async def test_app_sees_the_emulator(nemo_env):
    assert await app_balance() == 100
    assert nemo_env.count("credits") == 1


@pytest.mark.asyncio
async def test_client_fixture_and_faults(nemo_client, nemo_emulator):
    nemo_emulator.faults.add("credits", "429", times=2)
    with pytest.raises(RateLimitError):
        await nemo_client.credits.balance()


@pytest.mark.asyncio
@pytest.mark.nemo_emulator(starting_credits=1000)
async def test_marker_knobs_and_a_whole_job(nemo_client, tmp_path):
    assert (await nemo_client.credits.balance()).available == 1000
    result = await nemo_client.generate_and_export("a sunset", tmp_path / "v.mp4")
    assert result.path.stat().st_size > 1000


def test_sync_code_can_use_the_emulator_too(nemo_emulator):
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(nemo_emulator.url + "/api/credits/balance/simple")
    except urllib.error.HTTPError:
        pass  # no token: refused, but it arrived
    assert nemo_emulator.count("credits") == 1
"""


@pytest.mark.slow
def test_the_plugin_is_registered_and_its_fixtures_work(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_app=USER_TESTS)
    # A fresh interpreter: the fixtures come from the installed entry point, not from
    # this suite's conftest, and pytest-asyncio runs in its default (strict) mode.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-W", "ignore")
    result.assert_outcomes(passed=4)


def test_the_threaded_emulator_serves_another_loop() -> None:
    with emulator_in_thread(render_seconds=0.01) as emu:
        emu.faults.add("credits", "500")

        async def balance() -> int:
            async with NemoClient(base_url=emu.url, retry=FAST_RETRY, journal_path=False) as nemo:
                return (await nemo.credits.balance()).available

        assert asyncio.run(balance()) == 100
        assert emu.count("credits") == 2  # the 500, then the retry
        url = emu.url
    # Stopped: nothing listens any more.
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)
    assert os.environ.get("NEMO_API_URL") is None
