"""Client configuration: arguments, then the environment, then defaults."""

from __future__ import annotations

import contextlib
import math
import os
import re
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeAlias

import attrs
from yarl import URL

from ._logging import logger
from ._version import __version__
from .errors import ConfigurationError

DEFAULT_API_URL = "https://mega-api-prod.nemovideo.ai"
DEFAULT_WEB_URL = "https://nemovideo.com"
DEFAULT_SOURCE = "nemo-sdk"

TokenSource = Literal["argument", "env", "anonymous"]
TokenCacheOption: TypeAlias = bool | str | os.PathLike[str] | None
"""``token_cache``: ``None`` as ``NEMO_TOKEN_CACHE`` says, ``False`` off, ``True`` the
default file (``tokens.json`` in the config directory), or a file's path."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _named(setting: str, env_name: str | None, from_env: bool) -> str:
    """The name a user looks for: the environment variable when the value came from there."""
    return env_name if from_env and env_name else setting


def check_url(raw: str | URL, setting: str) -> URL:
    """``raw`` as an http(s) URL, else a ``ConfigurationError`` naming ``setting``."""
    text = str(raw)
    if _CONTROL.search(text) or any(c.isspace() for c in text):
        raise ConfigurationError(f"{setting}: a URL holds no spaces or control characters")
    try:
        url = raw if isinstance(raw, URL) else URL(text)
        port = url.port  # yarl checks the port's range here for a URL made elsewhere
        host = url.host
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{setting} is not a valid URL ({exc}): {text!r}") from None
    if url.scheme not in ("http", "https") or not host:
        raise ConfigurationError(f"{setting} must be an http(s) URL, got {text!r}")
    if url.user is not None or url.password is not None:
        # Credentials in the URL would go out as Basic auth beside the bearer token, and
        # into every log line and error that shows the URL. Not shown: they are secret.
        raise ConfigurationError(
            f"{setting} must not carry a user name or password (user@host); the API "
            "authenticates with the bearer token (token=... or NEMO_TOKEN)"
        )
    if port is None or not 0 < port < 65536:
        raise ConfigurationError(f"{setting}: port out of range 1-65535 in {text!r}")
    return url


def check_header_value(value: str | None, setting: str) -> str | None:
    """``value`` unchanged, unless it holds a control character (CR, LF...): it goes in a header."""
    if value is not None and _CONTROL.search(value):
        # The value is not shown: it may be a token.
        raise ConfigurationError(
            f"{setting} holds a control character (a line break?); it is sent as an HTTP "
            "header and must be one line of text"
        )
    return value


def _seconds(*, positive: bool, optional: bool = False) -> Any:
    """An attrs validator: a finite number of seconds (> 0, or >= 0), or ``None`` if allowed."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        ok = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and (value > 0 if positive else value >= 0)
        )
        if not ok:
            bound = "> 0" if positive else ">= 0"
            allowed = " or None" if optional else ""
            raise ConfigurationError(
                f"{type(instance).__name__}.{attribute.name} must be a finite number of "
                f"seconds {bound}{allowed}, got {value!r}"
            )

    return check


def _count(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be a whole number >= 0, got {value!r}"
        )


def _flag(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be True or False, got {value!r}"
        )


@attrs.frozen
class Timeouts:
    """Timeouts in seconds; ``None`` disables one.

    Attributes:
        connect: to open a connection.
        read: idle time allowed between two reads of the body, so a stalled
            stream is noticed even while a long request is still legitimately running.
        total: for one whole request (not applied to chat streams and downloads,
            which have their own caps).
    """

    connect: float | None = attrs.field(
        default=10.0, validator=_seconds(positive=True, optional=True)
    )
    read: float | None = attrs.field(
        default=120.0, validator=_seconds(positive=True, optional=True)
    )
    total: float | None = attrs.field(
        default=300.0, validator=_seconds(positive=True, optional=True)
    )


@attrs.frozen
class RetrySettings:
    """How the retry rules of ``_retry`` wait (API.md, "Error codes").

    Attributes:
        max_retries: retries of an idempotent request after a connection error or a 5xx.
        rate_limit_wait: seconds to wait after a 429 without ``Retry-After`` (the API says 30).
        max_rate_limit_wait: a ``Retry-After`` longer than this is not waited out: the
            429 is raised at once with ``retry_after`` set (the token limit is per 7 days).
        backoff_initial: first back-off for transient errors, doubled each time, with jitter.
        backoff_max: the longest single back-off for transient errors.
    """

    max_retries: int = attrs.field(default=2, validator=_count)
    rate_limit_wait: float = attrs.field(default=30.0, validator=_seconds(positive=False))
    max_rate_limit_wait: float = attrs.field(default=120.0, validator=_seconds(positive=False))
    backoff_initial: float = attrs.field(default=0.5, validator=_seconds(positive=False))
    backoff_max: float = attrs.field(default=8.0, validator=_seconds(positive=False))


@attrs.frozen
class ChatSettings:
    """How a chat turn waits and recovers (API.md, "POST /run_sse"); seconds.

    Attributes:
        drop_wait: after a dropped stream, wait this long before the first state read.
        poll_interval: then read the state this often.
        unchanged_reads: give up (``StreamInterrupted``) after this many reads
            that show an unchanged draft.
        heartbeat_timeout: a stream that carried only heartbeats this long is
            taken as timed out (and recovered like a drop).
        overall_cap: the longest a stream may run; past it, it is recovered like a drop.
        still_working_every: how often ``on_still_working`` fires while a turn runs.
    """

    drop_wait: float = 30.0
    poll_interval: float = 60.0
    unchanged_reads: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    heartbeat_timeout: float = attrs.field(default=600.0, validator=attrs.validators.gt(0))
    overall_cap: float = attrs.field(default=900.0, validator=attrs.validators.gt(0))
    still_working_every: float = attrs.field(default=120.0, validator=attrs.validators.gt(0))


@attrs.frozen
class Attribution:
    """The three attribution headers the API requires on every request."""

    source: str = DEFAULT_SOURCE
    version: str = __version__
    platform: str = "unknown"

    def headers(self) -> dict[str, str]:
        """The headers, ready to send."""
        return {
            "X-Skill-Source": self.source,
            "X-Skill-Version": self.version,
            "X-Skill-Platform": self.platform,
        }


def detect_platform(env: Mapping[str, str] | None = None, install_path: Path | None = None) -> str:
    """``SKILL_SOURCE`` if set, else the platform whose directory holds the install."""
    env = os.environ if env is None else env
    if env.get("SKILL_SOURCE"):
        return env["SKILL_SOURCE"]
    path = (install_path or Path(__file__)).resolve().as_posix()
    if "/.clawhub/" in path:
        return "clawhub"
    if "/.cursor/skills/" in path:
        return "cursor"
    return "unknown"


def default_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/nemovideo``, else ``~/.config/nemovideo``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "nemovideo"


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def write_client_id(path: Path, client_id: str) -> None:
    """Persist a client id with owner-only permissions (it identifies the user's device)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(client_id + "\n")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    os.chmod(path, 0o600)


_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"", "0", "false", "no", "off"})


def resolve_token_cache(option: TokenCacheOption, env: Mapping[str, str]) -> Path | None:
    """The token cache file of the ``token_cache`` option, else of ``NEMO_TOKEN_CACHE``.

    Off unless asked for: the vendor's skill keeps no credentials on disk.
    """
    from_env = option is None
    if option is None:
        raw = env.get("NEMO_TOKEN_CACHE", "").strip()
        if raw.lower() in _OFF:
            return None
        option = True if raw.lower() in _ON else raw
    if isinstance(option, bool):
        return default_config_dir(env) / "tokens.json" if option else None
    path = os.fspath(option)
    setting = "NEMO_TOKEN_CACHE" if from_env else "token_cache"
    if not path:
        raise ConfigurationError(f"{setting} must be a bool or a file path, got ''")
    return check_file_path(Path(path).expanduser(), setting)


def check_file_path(path: Path, setting: str) -> Path:
    """``path`` if it can name a file (not ``.``, ``/``, nor an existing directory)."""
    if path.name in ("", ".", "..") or path.is_dir():
        raise ConfigurationError(f"{setting} must name a file, got the directory {str(path)!r}")
    return path


def load_or_create_client_id(path: Path) -> str:
    """Read the persisted client id; make and persist a new one if absent or corrupt.

    Reusing the id matters: the token call is limited per client id and per IP,
    and re-auth after expiry must present the same id (API.md, anonymous-token).
    """
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        text = ""
    except OSError:
        text = ""
    if text and _is_uuid(text):
        return text
    client_id = str(uuid.uuid4())
    write_client_id(path, client_id)
    return client_id


def _api_url(value: str | URL) -> URL:
    return check_url(value, "api_url")


def _web_url(value: str | URL) -> URL:
    return check_url(value, "web_url")


@attrs.frozen
class ClientConfig:
    """Everything a client needs to know, resolved once.

    Build it with :meth:`resolve` (arguments, then environment, then defaults).
    The token is excluded from ``repr()``; ``token_cache`` is the file anonymous
    tokens are kept in between runs (``None``: not kept).
    """

    api_url: URL = attrs.field(converter=_api_url)
    web_url: URL = attrs.field(converter=_web_url)
    token: str | None = attrs.field(default=None, repr=False)
    token_source: TokenSource = "anonymous"
    allow_anonymous_reauth: bool = True
    client_id: str | None = None
    client_id_path: Path | None = None
    token_cache: Path | None = None
    attribution: Attribution = Attribution()
    timeouts: Timeouts = Timeouts()
    retry: RetrySettings = RetrySettings()
    chat: ChatSettings = ChatSettings()
    log_requests: bool = False
    journal_path: Path | None = None
    # None: the adaptive schedule (nemo_sdk._poll_schedule), polls at least this far apart.
    render_poll_interval: float | None = attrs.field(
        default=None, validator=_seconds(positive=True, optional=True)
    )
    render_poll_floor: float = attrs.field(default=2.0, validator=_seconds(positive=True))
    render_timeout: float = attrs.field(default=600.0, validator=_seconds(positive=True))
    # The forward proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (as requests and httpx do).
    trust_env: bool = attrs.field(default=True, validator=_flag)
    # The connection pool's limits; 0 is no limit (aiohttp's meaning).
    max_connections: int = attrs.field(default=100, validator=_count)
    max_connections_per_host: int = attrs.field(default=0, validator=_count)

    def __attrs_post_init__(self) -> None:
        # A config built by hand is held to what ``resolve`` checks (under the field names).
        check_header_value(self.token, "token")
        check_header_value(self.client_id, "client_id")
        for name in ("source", "version", "platform"):
            check_header_value(getattr(self.attribution, name), f"attribution.{name}")

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | URL | None = None,
        web_url: str | URL | None = None,
        token: str | None = None,
        client_id: str | None = None,
        client_id_path: str | Path | None = None,
        allow_anonymous_reauth: bool | None = None,
        token_cache: TokenCacheOption = None,
        source: str | None = None,
        version: str | None = None,
        platform: str | None = None,
        timeouts: Timeouts | None = None,
        retry: RetrySettings | None = None,
        chat: ChatSettings | None = None,
        journal_path: str | Path | Literal[False] | None = None,
        render_poll_interval: float | None = None,
        render_timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        render_poll_floor: float | None = None,
        trust_env: bool = True,
        max_connections: int = 100,
        max_connections_per_host: int = 0,
    ) -> ClientConfig:
        """Resolve each setting from the arguments, then the environment, then defaults.

        ``journal_path``: where the render job journal lives (default
        ``$XDG_CONFIG_HOME/nemovideo/renders.sqlite3``); ``False`` turns it off.
        ``token_cache``: keep anonymous tokens between runs (``True``:
        ``$XDG_CONFIG_HOME/nemovideo/tokens.json``; a path: that file); else
        ``NEMO_TOKEN_CACHE`` (``1``/``true`` or a path); off by default.
        ``trust_env``: send requests through the proxy ``HTTPS_PROXY``/``HTTP_PROXY``
        name, unless ``NO_PROXY`` lists the host. ``max_connections`` (100) and
        ``max_connections_per_host`` (0): the pool's limits; 0 is no limit.
        """
        env = os.environ if env is None else env
        from ._env_waits import chat_from_env, seconds_from_env  # it imports this module

        # Every setting is checked here, before anything is sent, and an error names it
        # as the user wrote it: the argument, or the environment variable it came from.
        api_url = check_url(
            base_url or env.get("NEMO_API_URL") or DEFAULT_API_URL,
            _named("base_url", "NEMO_API_URL", not base_url and bool(env.get("NEMO_API_URL"))),
        )
        web = check_url(
            web_url or env.get("NEMO_WEB_URL") or DEFAULT_WEB_URL,
            _named("web_url", "NEMO_WEB_URL", not web_url and bool(env.get("NEMO_WEB_URL"))),
        )
        source_of_token: TokenSource
        if token:
            source_of_token = "argument"
        elif env.get("NEMO_TOKEN"):
            token, source_of_token = env["NEMO_TOKEN"], "env"
        else:
            if "NEMO_TOKEN" in env:  # set but empty: probably a mistake, not a choice
                logger.warning("NEMO_TOKEN is set but empty: using an anonymous token instead")
            token, source_of_token = None, "anonymous"
        check_header_value(token, "NEMO_TOKEN" if source_of_token == "env" else "token")
        if allow_anonymous_reauth is None:
            # A token the user supplied belongs to their (maybe registered) account:
            # silently swapping it for an anonymous one would move their work to a
            # stranger's identity, so only tokens we minted are renewed by default.
            allow_anonymous_reauth = source_of_token == "anonymous"
        cid = client_id or env.get("NEMO_CLIENT_ID") or None
        check_header_value(cid, "client_id" if client_id else "NEMO_CLIENT_ID")
        if client_id_path is not None:
            cid_path: Path | None = check_file_path(Path(client_id_path), "client_id_path")
        else:
            cid_path = default_config_dir(env) / "client_id"
        return cls(
            api_url=api_url,
            web_url=web,
            token=token,
            token_source=source_of_token,
            allow_anonymous_reauth=allow_anonymous_reauth,
            client_id=cid,
            client_id_path=cid_path,
            token_cache=resolve_token_cache(token_cache, env),
            attribution=Attribution(
                source=check_header_value(source, "source") or DEFAULT_SOURCE,
                version=check_header_value(version, "version") or __version__,
                platform=check_header_value(platform, "platform")
                or check_header_value(detect_platform(env), "SKILL_SOURCE")
                or "unknown",
            ),
            timeouts=timeouts or Timeouts(),
            retry=retry or RetrySettings(),
            chat=chat or chat_from_env(env),
            log_requests=env.get("NEMO_LOG", "").lower() == "debug",
            journal_path=(
                None
                if journal_path is False
                else Path(journal_path)
                if journal_path is not None
                else default_config_dir(env) / "renders.sqlite3"
            ),
            render_poll_interval=(
                seconds_from_env(env, "NEMO_RENDER_POLL_INTERVAL")
                if render_poll_interval is None
                else render_poll_interval
            ),
            render_poll_floor=(
                (seconds_from_env(env, "NEMO_RENDER_POLL_FLOOR") or 2.0)
                if render_poll_floor is None
                else render_poll_floor
            ),
            render_timeout=600.0 if render_timeout is None else render_timeout,
            trust_env=trust_env,
            max_connections=max_connections,
            max_connections_per_host=max_connections_per_host,
        )
