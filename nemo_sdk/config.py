"""Client configuration: arguments, then the environment, then defaults."""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import re
import sys
import uuid
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict, TypeVar

import attrs
from yarl import URL

from ._rules.env_waits import seconds_from_env
from ._util.logging import logger
from ._version import __version__
from .errors import ConfigurationError

if TYPE_CHECKING:
    from typing_extensions import Unpack

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


def _count_from(least: int) -> Any:
    """An attrs validator: a whole number (not a bool) ``>= least``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ConfigurationError(
                f"{type(instance).__name__}.{attribute.name} must be a whole number "
                f">= {least}, got {value!r}"
            )

    return check


_count = _count_from(0)


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
    """How the retry rules of ``_http.retry`` wait (API.md, "Error codes").

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

    # 0 means 0: read the state at once, and back to back (``unchanged_reads`` bounds it).
    drop_wait: float = attrs.field(default=30.0, validator=_seconds(positive=False))
    poll_interval: float = attrs.field(default=60.0, validator=_seconds(positive=False))
    unchanged_reads: int = attrs.field(default=5, validator=_count_from(1))
    heartbeat_timeout: float = attrs.field(default=600.0, validator=_seconds(positive=True))
    overall_cap: float = attrs.field(default=900.0, validator=_seconds(positive=True))
    still_working_every: float = attrs.field(default=120.0, validator=_seconds(positive=True))


@attrs.frozen
class RenderSettings:
    """How ``renders.wait`` polls a render (API.md, "GET /api/render/proxy/lambda/<id>"); seconds.

    Attributes:
        poll_interval: a fixed time between polls, above zero. ``None`` (default): an
            adaptive schedule aimed at the moment the render's progress says it ends.
        poll_floor: the adaptive schedule's least gap between two polls (2 s).
        timeout: how long a wait lasts before ``RenderTimeout`` (600 s; 0: one poll).
    """

    poll_interval: float | None = attrs.field(
        default=None, validator=_seconds(positive=True, optional=True)
    )
    poll_floor: float = attrs.field(default=2.0, validator=_seconds(positive=True))
    timeout: float = attrs.field(default=600.0, validator=_seconds(positive=False))


def _limit(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} must be a whole number >= 1, or None "
            f"for no limit; got {value!r}"
        )


@attrs.frozen
class Limits:
    """The connection pool's limits (as ``httpx.Limits``); ``None``: no limit.

    A request beyond them waits for a free connection. They do not apply to an
    ``http_session=`` you pass: that session has its own connector.

    Attributes:
        max_connections: connections open at once, to all hosts (100).
        max_connections_per_host: connections open at once to one host (``None``,
            default: only the total caps them).
    """

    max_connections: int | None = attrs.field(default=100, validator=_limit)
    max_connections_per_host: int | None = attrs.field(default=None, validator=_limit)


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


def _group_of(kind: type) -> Any:
    """An attrs validator: an instance of the settings group ``kind``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind):
            raise ConfigurationError(
                f"{type(instance).__name__}.{attribute.name} must be a {kind.__name__}, "
                f"got {value!r}"
            )

    return check


class ClientOptions(TypedDict, total=False):
    """The settings :class:`~nemo_sdk.NemoClient` and :meth:`ClientConfig.resolve` take.

    Each is a keyword argument. ``None``, or leaving it out: the environment variable
    named, then the default. Related settings come in groups, as httpx's config objects
    do: :class:`Timeouts`, :class:`RetrySettings`, :class:`Limits`, :class:`ChatSettings`,
    :class:`RenderSettings`.
    """

    token: str | None
    """A bearer token; else ``NEMO_TOKEN``, else an anonymous one on first use."""
    base_url: str | URL | None
    """The API's base URL; else ``NEMO_API_URL``, else the service's."""
    timeout: float | Timeouts | None
    """Seconds for one whole request (``Timeouts.total``), or a :class:`Timeouts`."""
    max_retries: int | None
    """Retries of an idempotent request (``RetrySettings.max_retries``, 2); beats ``retry``'s."""
    timeouts: Timeouts | None
    """Connect, read-idle and total timeouts (as ``timeout=Timeouts(...)``)."""
    retry: RetrySettings | None
    """How the retry rules wait (tests make these milliseconds)."""
    limits: Limits | None
    """The connection pool's limits (100 connections; none per host)."""
    chat_settings: ChatSettings | None
    """How chat turns wait and recover; else ``NEMO_CHAT_DROP_WAIT`` and
    ``NEMO_CHAT_POLL_INTERVAL`` over the defaults."""
    render_settings: RenderSettings | None
    """How ``renders.wait`` polls; else ``NEMO_RENDER_POLL_INTERVAL`` and
    ``NEMO_RENDER_POLL_FLOOR`` over the defaults."""
    web_url: str | URL | None
    """The web app's URL (browser links); else ``NEMO_WEB_URL``."""
    client_id: str | None
    """The ``X-Client-Id``; else ``NEMO_CLIENT_ID``, else a persisted UUID."""
    client_id_path: str | Path | None
    """Where the client id is kept (``$XDG_CONFIG_HOME/nemovideo/client_id``)."""
    allow_anonymous_reauth: bool | None
    """Renew an expired token anonymously; default: only a token the client got itself."""
    token_cache: TokenCacheOption
    """Keep the anonymous token between runs: ``True`` (the default file), a path, ``False``;
    else ``NEMO_TOKEN_CACHE``; off by default. A token you supply is never written."""
    source: str | None
    """The ``X-Skill-Source`` attribution header (``nemo-sdk``)."""
    version: str | None
    """The ``X-Skill-Version`` attribution header (the SDK's version)."""
    platform: str | None
    """The ``X-Skill-Platform`` attribution header; else ``SKILL_SOURCE``, else detected."""
    journal_path: str | Path | Literal[False] | None
    """The render journal (``$XDG_CONFIG_HOME/nemovideo/renders.sqlite3``); ``False``: none."""
    trust_env: bool | None
    """Go through the proxy ``HTTPS_PROXY``/``HTTP_PROXY`` names unless ``NO_PROXY`` lists
    the host (``True``, as requests and httpx); ``False``: always connect directly."""
    log_requests: bool | None
    """``True``: log every request to stderr, token-redacted, as ``NEMO_LOG=debug`` does
    (the SDK's logger, for the whole process); default: as ``NEMO_LOG`` says."""
    render_poll_interval: float | None
    """Deprecated: ``render_settings=RenderSettings(poll_interval=...)``."""
    render_poll_floor: float | None
    """Deprecated: ``render_settings=RenderSettings(poll_floor=...)``."""
    render_timeout: float | None
    """Deprecated: ``render_settings=RenderSettings(timeout=...)``."""
    max_connections: int | None
    """Deprecated: ``limits=Limits(max_connections=...)`` (0 there is ``None``)."""
    max_connections_per_host: int | None
    """Deprecated: ``limits=Limits(max_connections_per_host=...)`` (0 there is ``None``)."""


# A retired loose setting -> (the group option that holds it now, the group's field).
DEPRECATED: dict[str, tuple[str, str]] = {
    "render_poll_interval": ("render_settings", "poll_interval"),
    "render_poll_floor": ("render_settings", "poll_floor"),
    "render_timeout": ("render_settings", "timeout"),
    "max_connections": ("limits", "max_connections"),
    "max_connections_per_host": ("limits", "max_connections_per_host"),
}
_GROUP_CLASS = {"render_settings": "RenderSettings", "limits": "Limits"}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _warn_deprecated(name: str) -> None:
    group, field = DEPRECATED[name]
    # Blame the caller's line: the first frame outside this package.
    frame, level = sys._getframe(0), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(
        f"{name}= is deprecated: pass {group}={_GROUP_CLASS[group]}({field}=...)",
        DeprecationWarning,
        stacklevel=level,
    )


def option_names(deprecated: bool = True) -> list[str]:
    """The names :class:`ClientOptions` holds, in order (the retired ones last, if asked)."""
    return [name for name in ClientOptions.__annotations__ if deprecated or name not in DEPRECATED]


def given_options(options: Mapping[str, Any], caller: str) -> dict[str, Any]:
    """The options set (not ``None``); a name that is not an option is a ``TypeError``."""
    known = ClientOptions.__annotations__
    for name in options:
        if name not in known:
            raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
    return {name: value for name, value in options.items() if value is not None}


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def takes_client_options(function: F) -> F:
    """Spell ``**options`` out as :class:`ClientOptions`' keywords in ``function``'s run-time
    signature (for ``help()``, editors that read it, and the sync client that copies it)."""
    signature = inspect.signature(function)
    own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    spelled = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=getattr(hint, "__forward_arg__", hint),  # 3.10 keeps a ForwardRef
        )
        for name, hint in ClientOptions.__annotations__.items()
        if name not in DEPRECATED
    ]
    positional = [p for p in own if p.kind is not p.KEYWORD_ONLY]
    keywords = [p for p in own if p.kind is p.KEYWORD_ONLY]
    public = [p for p in keywords if not p.name.startswith("_")]
    private = [p for p in keywords if p.name.startswith("_")]
    function.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*positional, *spelled, *public, *private]
    )
    return function


def _with_timeout(timeouts: Timeouts, timeout: float | Timeouts | None) -> Timeouts:
    if timeout is None:
        return timeouts
    if isinstance(timeout, Timeouts):
        return timeout
    return attrs.evolve(timeouts, total=timeout)


def _with_max_retries(retry: RetrySettings, max_retries: int | None) -> RetrySettings:
    return retry if max_retries is None else attrs.evolve(retry, max_retries=max_retries)


def _group(given: dict[str, Any], option: str, kind: type[T], fallback: Callable[[], T]) -> T:
    """The group ``option`` names (else ``fallback()``), with the retired loose ones it holds."""
    value = given.pop(option, None)
    if value is not None and not isinstance(value, kind):
        raise ConfigurationError(f"{option} must be a {kind.__name__}, got {value!r}")
    loose: dict[str, Any] = {}
    for name, (group, field) in DEPRECATED.items():
        if group == option and name in given:
            _warn_deprecated(name)
            raw = given.pop(name)
            # The loose limits spoke aiohttp (0: no limit); Limits says None for that.
            zero_is_none = option == "limits" and type(raw) is int and raw == 0
            loose[field] = None if zero_is_none else raw
    if value is not None and loose:
        names = ", ".join(f"{f}=" for f in loose)
        raise ConfigurationError(
            f"{option}= and {names} were both given: set {names} inside {option}= only"
        )
    chosen = fallback() if value is None else value
    if not loose:
        return chosen
    try:
        return attrs.evolve(chosen, **loose)  # type: ignore[misc]
    except ConfigurationError as exc:  # named as the caller spelled it
        names = ", ".join(n for n, (g, f) in DEPRECATED.items() if g == option and f in loose)
        raise ConfigurationError(f"{names} (deprecated; now {option}=): {exc}") from None


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
    attribution: Attribution = attrs.field(default=Attribution(), validator=_group_of(Attribution))
    timeouts: Timeouts = attrs.field(default=Timeouts(), validator=_group_of(Timeouts))
    retry: RetrySettings = attrs.field(default=RetrySettings(), validator=_group_of(RetrySettings))
    limits: Limits = attrs.field(default=Limits(), validator=_group_of(Limits))
    chat: ChatSettings = attrs.field(default=ChatSettings(), validator=_group_of(ChatSettings))
    render: RenderSettings = attrs.field(
        default=RenderSettings(), validator=_group_of(RenderSettings)
    )
    # Log every request (NEMO_LOG=debug's lines) to stderr; the client turns it on.
    log_requests: bool = attrs.field(default=False, validator=_flag)
    journal_path: Path | None = None
    # The forward proxy from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (as requests and httpx do).
    trust_env: bool = attrs.field(default=True, validator=_flag)

    def __attrs_post_init__(self) -> None:
        # A config built by hand is held to what ``resolve`` checks (under the field names).
        check_header_value(self.token, "token")
        check_header_value(self.client_id, "client_id")
        for name in ("source", "version", "platform"):
            check_header_value(getattr(self.attribution, name), f"attribution.{name}")

    # Read-only views kept for code that read the loose settings; the groups hold them.
    @property
    def render_poll_interval(self) -> float | None:
        """``render.poll_interval``."""
        return self.render.poll_interval

    @property
    def render_poll_floor(self) -> float:
        """``render.poll_floor``."""
        return self.render.poll_floor

    @property
    def render_timeout(self) -> float:
        """``render.timeout``."""
        return self.render.timeout

    @property
    def max_connections(self) -> int:
        """``limits.max_connections`` as aiohttp's connector takes it (0: no limit)."""
        return 0 if self.limits.max_connections is None else self.limits.max_connections

    @property
    def max_connections_per_host(self) -> int:
        """``limits.max_connections_per_host`` as aiohttp's connector takes it (0: no limit)."""
        per_host = self.limits.max_connections_per_host
        return 0 if per_host is None else per_host

    @classmethod
    @takes_client_options
    def resolve(
        cls, *, env: Mapping[str, str] | None = None, **options: Unpack[ClientOptions]
    ) -> ClientConfig:
        """Resolve each setting from the arguments, then the environment, then defaults.

        The arguments are :class:`ClientOptions` (``NemoClient`` takes the same ones);
        ``env`` stands for ``os.environ``. A malformed setting is a
        :class:`ConfigurationError` naming it (or the environment variable it came from).
        """
        env = os.environ if env is None else env

        given = given_options(options, "ClientConfig.resolve")
        take = given.pop
        base_url, web_url = take("base_url", None), take("web_url", None)
        token = take("token", None)
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
        allow_anonymous_reauth = take("allow_anonymous_reauth", None)
        if allow_anonymous_reauth is None:
            # A token the user supplied belongs to their (maybe registered) account:
            # silently swapping it for an anonymous one would move their work to a
            # stranger's identity, so only tokens we minted are renewed by default.
            allow_anonymous_reauth = source_of_token == "anonymous"
        client_id = take("client_id", None)
        cid = client_id or env.get("NEMO_CLIENT_ID") or None
        check_header_value(cid, "client_id" if client_id else "NEMO_CLIENT_ID")
        client_id_path = take("client_id_path", None)
        if client_id_path is not None:
            cid_path: Path | None = check_file_path(Path(client_id_path), "client_id_path")
        else:
            cid_path = default_config_dir(env) / "client_id"
        source, version = take("source", None), take("version", None)
        platform = take("platform", None)
        journal_path = take("journal_path", None)

        timeout, timeouts = take("timeout", None), take("timeouts", None)
        if isinstance(timeout, Timeouts) and timeouts is not None:
            raise ConfigurationError("timeout=Timeouts(...) and timeouts= both given: pass one")
        if timeouts is not None and not isinstance(timeouts, Timeouts):
            raise ConfigurationError(f"timeouts must be a Timeouts, got {timeouts!r}")
        retry = _group(given, "retry", RetrySettings, RetrySettings)
        log_requests = take("log_requests", None)
        config = cls(
            api_url=api_url,
            web_url=web,
            token=token,
            token_source=source_of_token,
            allow_anonymous_reauth=allow_anonymous_reauth,
            client_id=cid,
            client_id_path=cid_path,
            token_cache=resolve_token_cache(take("token_cache", None), env),
            attribution=Attribution(
                source=check_header_value(source, "source") or DEFAULT_SOURCE,
                version=check_header_value(version, "version") or __version__,
                platform=check_header_value(platform, "platform")
                or check_header_value(detect_platform(env), "SKILL_SOURCE")
                or "unknown",
            ),
            timeouts=_with_timeout(Timeouts() if timeouts is None else timeouts, timeout),
            retry=_with_max_retries(retry, take("max_retries", None)),
            limits=_group(given, "limits", Limits, Limits),
            # The environment's waits apply when the group is not given (a test's speed).
            chat=_group(given, "chat_settings", ChatSettings, lambda: _chat_from_env(env)),
            render=_group(given, "render_settings", RenderSettings, lambda: _render_from_env(env)),
            log_requests=(
                env.get("NEMO_LOG", "").strip().lower() == "debug"
                if log_requests is None
                else log_requests
            ),
            journal_path=(
                None
                if journal_path is False
                else Path(journal_path)
                if journal_path is not None
                else default_config_dir(env) / "renders.sqlite3"
            ),
            trust_env=take("trust_env", True),
        )
        assert not given, f"options not resolved: {sorted(given)}"  # tests/client/test_options.py
        return config


def derive_config(
    config: ClientConfig,
    *,
    timeout: float | Timeouts | None = None,
    max_retries: int | None = None,
    retry: RetrySettings | None = None,
    chat_settings: ChatSettings | None = None,
    render_settings: RenderSettings | None = None,
) -> ClientConfig:
    """``config`` with other per-request settings (``NemoClient.with_options``); ``None`` keeps one.

    ``max_retries`` beats ``retry``'s, as in :meth:`ClientConfig.resolve`.
    """
    return attrs.evolve(
        config,
        timeouts=_with_timeout(config.timeouts, timeout),
        retry=_with_max_retries(config.retry if retry is None else retry, max_retries),
        chat=config.chat if chat_settings is None else chat_settings,
        render=config.render if render_settings is None else render_settings,
    )


def _chat_from_env(env: Mapping[str, str]) -> ChatSettings:
    """The default :class:`ChatSettings`, with the waits the environment sets."""
    drop = seconds_from_env(env, "NEMO_CHAT_DROP_WAIT", zero=True)
    poll = seconds_from_env(env, "NEMO_CHAT_POLL_INTERVAL", zero=True)
    defaults = ChatSettings()
    return ChatSettings(
        drop_wait=defaults.drop_wait if drop is None else drop,
        poll_interval=defaults.poll_interval if poll is None else poll,
    )


def _render_from_env(env: Mapping[str, str]) -> RenderSettings:
    """The default :class:`RenderSettings`, with the polling the environment sets."""
    # Above zero: a render poll of 0 would ask the API back to back (renders.wait
    # refuses poll_interval=0 too); API.md documents polls every 10 s.
    interval = seconds_from_env(env, "NEMO_RENDER_POLL_INTERVAL")
    floor = seconds_from_env(env, "NEMO_RENDER_POLL_FLOOR")
    defaults = RenderSettings()
    return RenderSettings(
        poll_interval=interval,
        poll_floor=defaults.poll_floor if floor is None else floor,
    )
