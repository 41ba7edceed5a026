"""Exit codes of the ``nemo`` command, and the one-line message for each failure."""

from __future__ import annotations

import enum
import json

import attrs
import click

from .. import errors
from .._util.logging import redact

__all__ = ["EXIT_CODES", "ExitCode", "Failure", "describe"]


class ExitCode(enum.IntEnum):
    """What the process exit status of ``nemo`` means (scripts may rely on these)."""

    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    API_ERROR = 3
    AUTH = 4
    CREDITS = 5
    EXPORT_BLOCKED = 6
    NOT_FOUND = 7
    CONNECTION = 8
    RATE_LIMITED = 9
    INTERRUPTED = 130


EXIT_CODES: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.UNEXPECTED: "unexpected error (a bug: run again with --debug and report it)",
    ExitCode.USAGE: "bad usage or input: unknown option, bad argument, file exists or missing",
    ExitCode.API_ERROR: "any other API error (server error, failed render, bad answer)",
    ExitCode.AUTH: "the token is invalid or expired (check --token / NEMO_TOKEN)",
    ExitCode.CREDITS: "out of credits (code 2001); the message carries the register link",
    ExitCode.EXPORT_BLOCKED: "export blocked by the plan (HTTP 402): use a registered token",
    ExitCode.NOT_FOUND: "session or render not found",
    ExitCode.CONNECTION: "cannot reach the API, or a timeout (the render id still resumes)",
    ExitCode.RATE_LIMITED: "rate limited (HTTP 429) after the allowed retry",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); the resume command is printed",
}
"""Every exit code with its meaning, as the ``--help`` epilog shows them."""


@attrs.frozen
class Failure:
    """How a failure is reported: the exit code, one line for people, fields for ``--json``."""

    code: ExitCode
    message: str
    fields: dict[str, object] = attrs.field(factory=dict)


# Most specific first: every class below is a NemoError, and some are APIErrors.
_CODES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], ExitCode], ...] = (
    (errors.InsufficientCreditsError, ExitCode.CREDITS),
    (errors.ExportBlockedError, ExitCode.EXPORT_BLOCKED),
    ((errors.AuthenticationError, errors.MissingClientIdError), ExitCode.AUTH),
    ((errors.SessionNotFoundError, errors.NotFoundError), ExitCode.NOT_FOUND),
    ((errors.APIConnectionError, errors.RenderTimeoutError), ExitCode.CONNECTION),
    (errors.RateLimitError, ExitCode.RATE_LIMITED),
    (
        (
            errors.InvalidArgumentError,
            errors.ConfigurationError,
            errors.UnsupportedFileTypeError,
            errors.FileTooLargeError,
            FileExistsError,
            FileNotFoundError,
            IsADirectoryError,
            NotADirectoryError,
        ),
        ExitCode.USAGE,
    ),
    (errors.NemoError, ExitCode.API_ERROR),
)


def _code_of(exc: BaseException) -> ExitCode:
    for kinds, code in _CODES:
        if isinstance(exc, kinds):
            return code
    return ExitCode.UNEXPECTED


def _hint(exc: BaseException, text: str) -> str | None:
    """What to do next, when the error's own text does not say it already."""
    if isinstance(exc, errors.InsufficientCreditsError):
        if exc.register_url:
            if exc.register_url in text:
                return None
            return f"register to get more credits: {exc.register_url}"
        return "top up your account's credits to go on"
    if isinstance(exc, errors.ExportBlockedError):
        if "NEMO_TOKEN" in text:
            return None
        return "exporting needs a registered token: set NEMO_TOKEN (or pass --token)"
    if isinstance(exc, errors.AuthenticationError):
        return "check --token / NEMO_TOKEN"
    if isinstance(exc, errors.SessionNotFoundError):
        return "start a new one with `nemo sessions create`"
    if isinstance(exc, errors.RenderTimeoutError):
        return f"resume with `nemo renders wait {exc.render_id}`"
    if isinstance(exc, errors.RateLimitError) and exc.retry_after:
        return f"try again in {exc.retry_after:g} s"
    if isinstance(exc, FileExistsError):
        return "pass --overwrite to replace it"
    return None


def _fields(exc: BaseException) -> dict[str, object]:
    fields: dict[str, object] = {}
    if isinstance(exc, errors.APIError):
        fields.update(status=exc.status, code=exc.code, request_id=exc.request_id)
    for name in ("register_url", "user_id", "render_id", "retry_after", "limit", "session_id"):
        value = getattr(exc, name, None)
        if value is not None and not isinstance(exc, errors.FileTooLargeError):
            fields[name] = value
    if isinstance(exc, errors.FileTooLargeError):
        fields.update(limit=exc.limit, size=exc.size)
    if isinstance(exc, errors.UnsupportedFileTypeError):
        fields["accepted_formats"] = list(exc.accepted_formats)
    return fields


def describe(exc: BaseException) -> Failure:
    """The exit code and the one-line message for ``exc``."""
    code = _code_of(exc)
    # Defence in depth: a server that echoes the bearer token must not get it printed.
    text = for_cli(redact(" ".join(str(exc).split()))) or type(exc).__name__
    if code is ExitCode.UNEXPECTED:
        text = f"{type(exc).__name__}: {text}"
    hint = _hint(exc, text)
    message = f"{text} — {hint}" if hint else text
    return Failure(code, message, {"type": type(exc).__name__, **_fields(exc)})


def usage_error_json(exc: click.UsageError) -> None:
    """The ``--json`` error document of a usage error, on stdout (click prints the line)."""
    doc = {
        "error": {
            "message": exc.format_message(),
            "exit_code": int(ExitCode.USAGE),
            "type": "UsageError",
        }
    }
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


# The SDK's errors name its arguments; a command's user has options instead.
_CLI_WORDS = (
    ("(argument or NEMO_TOKEN)", "(--token or NEMO_TOKEN)"),
    ("token=..., NEMO_TOKEN", "--token, NEMO_TOKEN"),
    ("token=... or NEMO_TOKEN", "--token or NEMO_TOKEN"),
    (
        "or pass allow_anonymous_reauth=True to fall back to an anonymous token",
        "or unset NEMO_TOKEN and drop --token to use an anonymous one",
    ),
    ("(token_cache=True or NEMO_TOKEN_CACHE=1)", "(NEMO_TOKEN_CACHE=1)"),
)


def for_cli(text: str) -> str:
    """``text`` with the SDK's argument names put as the command's options."""
    for sdk, cli in _CLI_WORDS:
        text = text.replace(sdk, cli)
    return text
