"""ClientConfig: arguments, then environment, then defaults; the persisted client id."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest

from nemo_sdk import ClientConfig, ConfigurationError
from nemo_sdk._http.tokens import ClientIdStore
from nemo_sdk.config import DEFAULT_API_URL, detect_platform, load_or_create_client_id


def test_defaults_without_environment(isolated_env: Path) -> None:
    config = ClientConfig.resolve()
    assert str(config.api_url) == DEFAULT_API_URL
    assert str(config.web_url) == "https://nemovideo.com"
    assert config.token is None and config.token_source == "anonymous"
    assert config.allow_anonymous_reauth is True
    assert config.client_id_path == isolated_env / "nemovideo" / "client_id"
    assert config.attribution.source == "nemo-sdk"


def test_environment_then_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMO_API_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("NEMO_WEB_URL", "http://127.0.0.1:2")
    monkeypatch.setenv("NEMO_TOKEN", "nmv_usr_from_env")
    monkeypatch.setenv("NEMO_CLIENT_ID", "cid-env")
    env = ClientConfig.resolve()
    assert str(env.api_url) == "http://127.0.0.1:1"
    assert str(env.web_url) == "http://127.0.0.1:2"
    assert env.token == "nmv_usr_from_env" and env.token_source == "env"
    assert env.allow_anonymous_reauth is False
    assert env.client_id == "cid-env"
    args = ClientConfig.resolve(base_url="http://127.0.0.1:3", token="nmv_usr_arg", client_id="c")
    assert str(args.api_url) == "http://127.0.0.1:3"
    assert args.token == "nmv_usr_arg" and args.token_source == "argument"
    assert args.client_id == "c"


def test_bad_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        ClientConfig.resolve(base_url="ftp://example")
    with pytest.raises(ConfigurationError):
        ClientConfig.resolve(web_url="not a url")


def test_client_id_is_persisted_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "nemovideo" / "client_id"
    first = load_or_create_client_id(path)
    uuid.UUID(first)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_client_id(path) == first


@pytest.mark.parametrize("content", ["", "not-a-uuid\n", "\x00\xff garbage"])
def test_corrupt_client_id_file_is_replaced(tmp_path: Path, content: str) -> None:
    path = tmp_path / "client_id"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    new = load_or_create_client_id(path)
    uuid.UUID(new)
    assert path.read_text().strip() == new
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_client_id_store_prefers_configured_and_renews_only_its_own(tmp_path: Path) -> None:
    path = tmp_path / "client_id"
    store = ClientIdStore("configured", path)
    assert store.get() == "configured" and store.configured
    assert not path.exists()
    with pytest.raises(AssertionError):  # the transport never asks: the user's id is theirs
        store.renew()
    assert store.get() == "configured" and not path.exists()
    own = ClientIdStore(None, path)
    first = own.get()
    renewed = own.renew()
    assert renewed != first and path.read_text().strip() == renewed


def test_platform_detection(tmp_path: Path) -> None:
    assert detect_platform({"SKILL_SOURCE": "cursor"}) == "cursor"
    home = Path("/home/u")
    assert detect_platform({}, home / ".clawhub" / "skills" / "x" / "config.py") == "clawhub"
    assert detect_platform({}, home / ".cursor" / "skills" / "x" / "config.py") == "cursor"
    assert detect_platform({}, tmp_path / "site-packages" / "nemo_sdk" / "config.py") == "unknown"


def test_attribution_overrides() -> None:
    config = ClientConfig.resolve(source="my-app", version="9.9", platform="terminal")
    assert config.attribution.headers() == {
        "X-Skill-Source": "my-app",
        "X-Skill-Version": "9.9",
        "X-Skill-Platform": "terminal",
    }
