"""``nemo_env`` makes an app's own ``NemoClient()`` wait at test speed, with no settings
passed through the app's code (``NEMO_RENDER_POLL_INTERVAL`` and the chat waits)."""

from __future__ import annotations

import pytest

from nemo_sdk.config import ChatSettings, ClientConfig, RenderSettings
from nemo_sdk.errors import ConfigurationError

pytest.importorskip("av")

USER_TESTS = '''
import time

import pytest
from nemo_sdk import NemoClient


async def make_clip(prompt, out):
    async with NemoClient() as nemo:  # production code: no settings passed
        return await nemo.generate_and_export(prompt, out=out)


@pytest.mark.asyncio
@pytest.mark.nemo_emulator(render_seconds=0.3)
async def test_the_app_runs_at_test_speed(nemo_env, tmp_path):
    started = time.monotonic()
    await make_clip("a sunset", str(tmp_path / "s.mp4"))
    assert time.monotonic() - started < 9  # a 10 s poll would show
    # Polled every 10 ms until it finished: the adaptive schedule's first poll (at 1 s)
    # would have found this 0.3 s render done, in one poll.
    assert nemo_env.count("poll") >= 3
'''


@pytest.mark.slow
def test_nemo_env_sets_fast_waits_for_the_apps_own_client(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_app=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-W", "ignore")
    result.assert_outcomes(passed=1)


def test_the_environment_sets_render_and_chat_waits() -> None:
    env = {
        "NEMO_RENDER_POLL_INTERVAL": "0.5",
        "NEMO_RENDER_POLL_FLOOR": "0.25",
        "NEMO_CHAT_DROP_WAIT": "0.1",
        "NEMO_CHAT_POLL_INTERVAL": "0.2",
    }
    config = ClientConfig.resolve(env=env)
    assert config.render == RenderSettings(poll_interval=0.5, poll_floor=0.25)
    assert (config.chat.drop_wait, config.chat.poll_interval) == (0.1, 0.2)
    plain = ClientConfig.resolve(env={})
    assert plain.render == RenderSettings(poll_interval=None, poll_floor=2.0)
    assert plain.chat == ChatSettings()
    # A group given beats the environment's waits for it.
    mine = RenderSettings(poll_interval=3)
    assert ClientConfig.resolve(render_settings=mine, env=env).render == mine


@pytest.mark.parametrize("bad", ["soon", "-1", "0", "nan"])
def test_a_bad_wait_in_the_environment_is_refused(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="NEMO_RENDER_POLL_INTERVAL"):
        ClientConfig.resolve(env={"NEMO_RENDER_POLL_INTERVAL": bad})
