"""The client's settings: defined once (``ClientOptions``), grouped, and honest about them.

One source: ``NemoClient``, ``ClientConfig.resolve`` and the sync client take the same
keywords, and each one reaches the resolved config. ``config=`` beside a setting is an
error; the retired loose settings still work and warn; 0 means 0.
"""

from __future__ import annotations

import inspect
import logging
import math
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

import nemo_sdk.sync
from nemo_sdk import (
    ChatSettings,
    ClientConfig,
    ConfigurationError,
    Limits,
    NemoClient,
    RenderSettings,
    RenderTimeout,
    RetrySettings,
    Timeouts,
)
from nemo_sdk.config import DEPRECATED, ClientOptions, option_names
from nemo_sdk.emulator import Emulator
from tests.conftest import FAST_RETRY

DOCS = Path(__file__).parents[2] / "docs"
DRAFT = {"t": [{"tt": 7, "sg": [{"d": 1000, "m": {"text": "slow render"}}]}]}

# A value for each setting unlike its default: resolving with it must change the config.
SAMPLES: dict[str, Any] = {
    "token": "nmv_usr_sample",
    "base_url": "http://127.0.0.1:1",
    "timeout": 7.0,
    "max_retries": 9,
    "timeouts": Timeouts(connect=1.0),
    "retry": RetrySettings(backoff_max=1.0),
    "limits": Limits(max_connections=3),
    "chat_settings": ChatSettings(drop_wait=0.0),
    "render_settings": RenderSettings(poll_interval=0.5),
    "web_url": "http://127.0.0.1:2",
    "client_id": "cid",
    "client_id_path": "/tmp/elsewhere/client_id",
    "allow_anonymous_reauth": False,
    "token_cache": True,
    "source": "app",
    "version": "9.9",
    "platform": "terminal",
    "journal_path": False,
    "trust_env": False,
    "log_requests": True,
    "render_poll_interval": 0.5,
    "render_poll_floor": 0.5,
    "render_timeout": 5.0,
    "max_connections": 3,
    "max_connections_per_host": 3,
}


# ------------------------------------------------------------------ one source of truth


def test_the_client_signature_is_the_options_and_its_own_three() -> None:
    params = inspect.signature(NemoClient).parameters
    own = ["config", "http_session", "sleep", "_transport"]
    assert list(params) == [*option_names(deprecated=False), *own]
    assert all(params[name].default is None for name in option_names(deprecated=False))
    # ClientConfig.resolve takes the same settings (plus the environment to read).
    assert list(inspect.signature(ClientConfig.resolve).parameters) == [
        *option_names(deprecated=False),
        "env",
    ]
    assert inspect.signature(nemo_sdk.sync.NemoClient) == inspect.signature(NemoClient)


def test_the_samples_cover_every_option() -> None:
    assert set(SAMPLES) == set(ClientOptions.__annotations__)


@pytest.mark.parametrize("name", list(ClientOptions.__annotations__))
def test_every_option_reaches_the_config(name: str) -> None:
    """A setting added to ClientOptions but not read by ``resolve`` fails here."""
    plain = ClientConfig.resolve(env={})
    with pytest.warns(DeprecationWarning) if name in DEPRECATED else _no_warning():
        changed = ClientConfig.resolve(env={}, **{name: SAMPLES[name]})
    assert changed != plain


def test_a_misspelt_setting_is_a_type_error_naming_the_client() -> None:
    with pytest.raises(
        TypeError, match=r"NemoClient\(\) got an unexpected keyword argument 'bse_url'"
    ):
        NemoClient(bse_url="http://127.0.0.1:1")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'bse_url'"):
        ClientConfig.resolve(bse_url="http://127.0.0.1:1")  # type: ignore[call-arg]


def test_the_docs_list_every_setting() -> None:
    page = (DOCS / "concepts.md").read_text(encoding="utf-8")
    missing = [name for name in option_names(deprecated=False) if f"`{name}`" not in page]
    assert not missing, f"docs/concepts.md does not list {missing}"


# ------------------------------------------------------------------ config= and the rest


def test_config_with_another_setting_is_refused() -> None:
    config = ClientConfig.resolve(base_url="http://127.0.0.1:1", env={})
    with pytest.raises(ConfigurationError, match=r"config=.*token=, max_retries=.*ignored"):
        NemoClient(config=config, token="nmv_usr_x", max_retries=0)


def test_config_alone_is_taken_as_it_is() -> None:
    config = ClientConfig.resolve(base_url="http://127.0.0.1:1", max_retries=5, env={})
    nemo = NemoClient(config=config, token=None)  # None: not a setting
    assert nemo.config is config


# ------------------------------------------------------------------ the groups and shortcuts


def test_timeout_and_max_retries_are_shortcuts_into_their_groups() -> None:
    config = ClientConfig.resolve(
        timeout=5.0, max_retries=0, retry=RetrySettings(backoff_max=1.0), env={}
    )
    assert config.timeouts == Timeouts(total=5.0)
    assert config.retry == RetrySettings(max_retries=0, backoff_max=1.0)  # max_retries beats
    whole = Timeouts(connect=1.0, read=2.0, total=3.0)
    assert ClientConfig.resolve(timeout=whole, env={}).timeouts == whole
    assert ClientConfig.resolve(timeouts=whole, timeout=9.0, env={}).timeouts.total == 9.0
    with pytest.raises(ConfigurationError, match="both given"):
        ClientConfig.resolve(timeout=whole, timeouts=whole, env={})


@pytest.mark.parametrize(
    ("name", "value"),
    [("retry", 3), ("timeouts", 3.0), ("chat_settings", {}), ("render_settings", 1.0)],
)
def test_a_group_of_the_wrong_kind_is_a_configuration_error(name: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=f"{name} must be a"):
        NemoClient(**{name: value})


async def test_with_options_takes_the_groups_and_shares_the_pool(emulator: Emulator) -> None:
    async with NemoClient(base_url=emulator.url, retry=FAST_RETRY, journal_path=False) as nemo:
        fast_chat = ChatSettings(drop_wait=0.0, poll_interval=0.0)
        copy = nemo.with_options(
            timeout=9.0,
            max_retries=0,
            chat_settings=fast_chat,
            render_settings=RenderSettings(timeout=0),
        )
        assert copy.config.timeouts.total == 9.0 and copy.config.retry.max_retries == 0
        assert copy.config.chat == fast_chat
        assert copy.config.retry.backoff_max == FAST_RETRY.backoff_max  # the rest: kept
        assert nemo.config.render == RenderSettings()  # the original: unchanged
        assert copy.config.limits is nemo.config.limits
        with pytest.raises(TypeError):
            nemo.with_options(limits=Limits())  # type: ignore[call-arg]  # the pool is shared
        await copy.close()  # a copy's close leaves the shared pool open
        assert (await nemo.credits.balance()).available > 0


# ------------------------------------------------------------------ 0 means 0


async def test_a_render_timeout_of_zero_polls_once_then_times_out() -> None:
    async with (
        Emulator(render_seconds=30) as emu,
        NemoClient(base_url=emu.url, retry=FAST_RETRY, journal_path=False) as nemo,
    ):
        session = await nemo.sessions.create()
        job = await nemo.renders.export(session.id, DRAFT)
        once = nemo.with_options(render_settings=RenderSettings(timeout=0))
        with pytest.raises(RenderTimeout):
            await once.renders.wait(job.id)
        assert emu.renders[job.id].status != "completed"
        await nemo.renders.cancel(job.id)


def test_the_retired_render_timeout_of_zero_is_taken_not_refused() -> None:
    # Before the groups, ClientConfig.resolve(render_timeout=0) raised ConfigurationError
    # although renders.wait(timeout=0) is allowed.
    with pytest.warns(DeprecationWarning, match="render_timeout="):
        assert ClientConfig.resolve(render_timeout=0, env={}).render.timeout == 0


@pytest.mark.parametrize("name", ["NEMO_CHAT_DROP_WAIT", "NEMO_CHAT_POLL_INTERVAL"])
def test_a_chat_wait_of_zero_in_the_environment_means_zero(name: str) -> None:
    # ChatSettings(drop_wait=0) was allowed while the same 0 from the environment was refused.
    chat = ClientConfig.resolve(env={name: "0"}).chat
    assert 0.0 in (chat.drop_wait, chat.poll_interval)


@pytest.mark.parametrize("name", ["NEMO_RENDER_POLL_INTERVAL", "NEMO_RENDER_POLL_FLOOR"])
def test_a_render_poll_of_zero_is_refused_with_a_clear_error(name: str) -> None:
    # API.md documents polls 10 s apart; renders.wait refuses poll_interval=0 too.
    with pytest.raises(ConfigurationError, match=f"{name} must be a number of seconds above zero"):
        ClientConfig.resolve(env={name: "0"})
    with pytest.raises(ConfigurationError, match="must be a finite number of seconds > 0"):
        RenderSettings(poll_interval=0)


def test_chat_waits_are_checked_when_made() -> None:
    # These were accepted, and made the recovery loop wait NaN or a negative time.
    for bad in ({"drop_wait": math.nan}, {"poll_interval": -1.0}, {"overall_cap": math.inf}):
        with pytest.raises(ConfigurationError):
            ChatSettings(**bad)


# ------------------------------------------------------------------ the retired loose settings


def test_render_poll_interval_still_works_and_warns_at_the_callers_line() -> None:
    with pytest.warns(
        DeprecationWarning, match=r"render_settings=RenderSettings\(poll_interval="
    ) as seen:
        nemo = NemoClient(render_poll_interval=0.5)
    assert nemo.config.render == RenderSettings(poll_interval=0.5)
    assert seen[0].filename == __file__


def test_the_sync_client_warns_at_the_callers_line_too() -> None:
    with (
        pytest.warns(DeprecationWarning) as seen,
        nemo_sdk.sync.NemoClient(render_poll_interval=0.5) as nemo,
    ):
        assert nemo.config.render.poll_interval == 0.5
    assert seen[0].filename == __file__


def test_the_retired_spelling_keeps_the_environments_other_waits() -> None:
    env = {"NEMO_RENDER_POLL_FLOOR": "0.25"}
    with pytest.warns(DeprecationWarning):
        config = ClientConfig.resolve(render_poll_interval=3, env=env)
    assert config.render == RenderSettings(poll_interval=3, poll_floor=0.25)


def test_a_bad_retired_value_names_the_retired_setting() -> None:
    with (
        pytest.warns(DeprecationWarning),
        pytest.raises(ConfigurationError, match="render_poll_interval"),
    ):
        NemoClient(render_poll_interval=0)


def test_the_group_and_its_retired_setting_together_are_refused() -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(ConfigurationError, match="both given"):
        NemoClient(render_settings=RenderSettings(), render_poll_interval=1)


def test_the_config_still_reads_the_old_names() -> None:
    config = ClientConfig.resolve(render_settings=RenderSettings(poll_interval=2.0), env={})
    assert (config.render_poll_interval, config.render_poll_floor, config.render_timeout) == (
        2.0,
        2.0,
        600.0,
    )
    assert config.api_url == URL("https://mega-api-prod.nemovideo.ai")


# ------------------------------------------------------------------ log_requests


async def test_log_requests_logs_each_request_to_stderr_without_the_token(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    token = emulator.issue_token()
    async with NemoClient(
        base_url=emulator.url, token=token, log_requests=True, journal_path=False
    ) as nemo:
        assert nemo.config.log_requests is True
        await nemo.credits.balance()
    err = capsys.readouterr().err
    assert "GET /api/credits/balance/simple -> 200" in err, err
    assert token not in err


async def test_without_log_requests_nothing_is_logged(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    async with NemoClient(base_url=emulator.url, journal_path=False) as nemo:
        assert nemo.config.log_requests is False
        await nemo.credits.balance()
    assert "->" not in capsys.readouterr().err
    assert not logging.getLogger("nemo_sdk").isEnabledFor(logging.DEBUG)


def test_nemo_log_debug_sets_log_requests_and_the_argument_beats_it() -> None:
    assert ClientConfig.resolve(env={"NEMO_LOG": "debug"}).log_requests is True
    assert ClientConfig.resolve(env={"NEMO_LOG": "debug"}, log_requests=False).log_requests is False
    with pytest.raises(ConfigurationError, match="log_requests"):
        ClientConfig.resolve(env={}, log_requests="yes")  # type: ignore[typeddict-item]


class _no_warning:
    """``pytest.warns`` for "no warning at all" (DeprecationWarning made an error)."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("error", DeprecationWarning)

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)
