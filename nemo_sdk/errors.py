"""Typed errors: one class per API error code and HTTP rule of the wire contract.

Every error the SDK raises is a :class:`NemoError`. Errors that come from a
server answer are :class:`APIError` and carry the HTTP status, the API code,
the request id (when the server sent one) and a short excerpt of the body.
No message ever contains the bearer token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._chat.reply import ChatReply
    from .models.limits import ACCEPTED_FORMATS as ACCEPTED_FORMATS
    from .models.limits import MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES

from ._util.secrets import redact


def __getattr__(name: str) -> Any:
    # The upload limits are the wire contract's (models.limits), kept importable from
    # here; loaded on first use, so that importing the errors loads no models package.
    if name in ("ACCEPTED_FORMATS", "MAX_UPLOAD_BYTES"):
        from .models import limits

        return getattr(limits, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_APIErrorT = TypeVar("_APIErrorT", bound="APIError")


class NemoError(Exception):
    """Base class of every error raised by nemo_sdk."""

    @property
    def retryable(self) -> bool:
        """Whether trying the same call again later can succeed (for job engines).

        False for what the same request would meet again (404, 402, 2001, bad
        input); true for rate limits, 5xx, broken connections and timeouts.
        """
        return isinstance(self, (APIConnectionError, RenderTimeoutError, DownloadError)) or (
            isinstance(self, APIError)
            and not isinstance(self, RenderFailedError)
            and (
                isinstance(self, (RateLimitError, ServerError))
                or self.status == 429
                or (self.status or 0) >= 500
            )
        )


class ClientClosedError(NemoError):
    """The client was used after ``close()`` (or after its ``async with`` block ended)."""


class EventLoopMismatchError(NemoError, RuntimeError):
    """The client was used from an event loop other than the one its connections belong to.

    aiohttp's connections are bound to the loop they were opened in: a client that ran
    under one ``asyncio.run()`` cannot be used under the next one. Make the client inside
    the coroutine (the loop) that uses it, e.g. ``async with NemoClient() as nemo:`` in
    the function given to ``asyncio.run``. Nothing was sent.
    """


class ConfigurationError(NemoError, ValueError):
    """A setting is missing or malformed (raised before anything is sent)."""


class InvalidArgumentError(NemoError, ValueError):
    """An argument is malformed (checked before anything is sent)."""


class APIConnectionError(NemoError):
    """The request could not reach the server or the connection broke mid-answer.

    Attributes:
        request_sent: ``False`` only when the request surely never left (no connection
            was made); ``True`` when the server may have received it.
    """

    def __init__(self, *args: object, request_sent: bool = True) -> None:
        super().__init__(*args)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """A connect, read-idle or total timeout passed."""


class APIError(NemoError):
    """The server answered with an error.

    Attributes:
        status: the HTTP status, or ``None`` when the error was found client-side.
        code: the API error code (``1001``, ``2001``...), when the body had one.
        request_id: the server's request id header, when present.
        body: at most 2,000 characters of the raw body, for diagnostics.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        request_id: str | None = None,
        body: str | None = None,
    ) -> None:
        # The server's words are in these: a token it echoes back is redacted here, the one
        # place every answer-made error passes, whatever built the message.
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.body = redact(body)[:2000] if body is not None else None

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return parts[0] if len(parts) == 1 else f"{parts[0]} ({', '.join(parts[1:])})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code})"

    def with_hint(self: _APIErrorT, hint: str) -> _APIErrorT:
        """A copy of this error (same class, every field) whose message ends with ``hint``,
        what the caller can do about it. Raise it ``from`` this one."""
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.message = redact(f"{self.message} — {hint}")
        copy.args = (copy.message,)
        return copy


class InvalidResponseError(APIError):
    """The server's answer was not the JSON envelope the contract describes."""


class AuthenticationError(APIError):
    """Code 1001: the token is expired or invalid and could not be renewed."""


class MissingClientIdError(APIError):
    """HTTP 400: the request lacked ``X-Client-Id`` and a retry with one failed too."""


class SessionNotFoundError(APIError):
    """Code 1002: the session does not exist (a new session would lose the timeline)."""


class InsufficientCreditsError(APIError):
    """Code 2001: out of credits.

    Attributes:
        user_id: the anonymous user id (``anon_...``), when known.
        register_url: ``<web>/register?bind=<user_id>`` for anonymous users, else ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        user_id: str | None = None,
        register_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.user_id = user_id
        self.register_url = register_url


class UnsupportedFileTypeError(APIError):
    """Code 4001 (or found before upload): the file type is not accepted.

    Attributes:
        accepted_formats: the extensions the API accepts.
        filename: the offending file, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str | None = None,
        accepted_formats: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        from .models.limits import ACCEPTED_FORMATS

        super().__init__(message, **kwargs)
        self.filename = filename
        self.accepted_formats = tuple(
            ACCEPTED_FORMATS if accepted_formats is None else accepted_formats
        )


class FileTooLargeError(APIError):
    """Code 4002 (or found before upload): the file is larger than the API accepts.

    Attributes:
        limit: the limit in bytes (500 MB).
        size: the file's size in bytes, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        size: int | None = None,
        limit: int | None = None,
        filename: str | None = None,
        **kwargs: Any,
    ) -> None:
        from .models.limits import MAX_UPLOAD_BYTES

        super().__init__(message, **kwargs)
        self.size = size
        self.limit = MAX_UPLOAD_BYTES if limit is None else limit
        self.filename = filename


class ExportBlockedError(APIError):
    """HTTP 402: export is blocked by the subscription tier (not a credit problem).

    Never retried. A registered token (set ``NEMO_TOKEN``) unlocks export.
    """


class RateLimitError(APIError):
    """HTTP 429 after the one retry the contract allows.

    Attributes:
        retry_after: seconds the server asked to wait, when it said.
        limit: for the anonymous-token call, which limit was hit
            (for example ``"per_client"`` or ``"per_ip"``), when the server said.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        limit: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.limit = limit


class NotFoundError(APIError):
    """HTTP 404 for something other than a session (for example an unknown render id)."""


class BadRequestError(APIError):
    """Another 4xx answer the contract gives no special rule for."""


class ServerError(APIError):
    """HTTP 5xx that persisted after the retries allowed for the request."""


class DraftNotExportableError(NemoError, ValueError):
    """The draft has no tracks, or every track's segment list is empty (checked before sending)."""


class InvalidDraftError(NemoError, ValueError):
    """A draft (or another object of the service's timeline format) cannot be read or written.

    Raised by ``Draft.from_wire`` for data that is not the documented format
    (``t``/``tt``/``sg``/``d``/``m`` of the wrong types), and by ``to_wire`` for
    content nested deeper than the serializer goes.

    Attributes:
        problems: how many fields were wrong, when known.
    """

    def __init__(self, message: str, *, problems: int | None = None) -> None:
        super().__init__(message)
        self.problems = problems


class RenderFailedError(APIError):
    """The render job ended with status ``failed``.

    Attributes:
        render_id: the render job's id.
        error: the server's error text.
    """

    def __init__(self, message: str, *, render_id: str, error: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.render_id = render_id
        self.error = redact(error) if error is not None else None


class RenderTimeoutError(NemoError):
    """``renders.wait`` passed its overall deadline; the render id still resumes it."""

    def __init__(self, message: str, *, render_id: str, last_status: str | None = None) -> None:
        super().__init__(message)
        self.render_id = render_id
        self.last_status = last_status


class StreamError(NemoError):
    """The Server-Sent Events stream could not be decoded."""


class EventTooLargeError(StreamError):
    """A single Server-Sent Event grew past the decoder's size limit."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class EventParseError(StreamError):
    """An event's ``data`` was not valid JSON (raised only when the caller asked for strictness)."""

    def __init__(self, message: str, *, data: str) -> None:
        super().__init__(message)
        self.data = data[:2000]


class StreamInterruptedError(NemoError):
    """The chat stream dropped and the session's draft did not change while we watched.

    Attributes:
        session_id: the chat's session.
        received: the events received before the drop.
        text: the text received before the drop.
    """

    def __init__(
        self,
        message: str,
        *,
        session_id: str,
        received: Sequence[Any] = (),
        text: str = "",
    ) -> None:
        super().__init__(message)
        self.session_id = session_id
        self.received = list(received)
        self.text = text


class HandlerError(NemoError):
    """A user event handler raised; the original exception is ``__cause__``.

    Attributes:
        handler: the handler's class name.
        hook: the hook that raised (``on_text``...).
    """

    def __init__(self, message: str, *, handler: str, hook: str) -> None:
        super().__init__(message)
        self.handler = handler
        self.hook = hook


class DownloadError(NemoError):
    """A render's file could not be downloaded (both the output URL and the fallback failed)."""


class UnsafeFilenameError(DownloadError):
    """A server-supplied file name would leave the target directory (``..``, ``/``, NUL...).

    Attributes:
        filename: the refused name, as the server sent it.
    """

    def __init__(self, message: str, *, filename: str) -> None:
        super().__init__(message)
        self.filename = filename


class UnknownRenderStatusError(InvalidResponseError):
    """A render answer carried a status outside the documented set (never polled forever).

    Attributes:
        render_id: the render job's id.
        status_value: the status as the service wrote it.
    """

    def __init__(self, message: str, *, render_id: str, status_value: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.render_id = render_id
        self.status_value = redact(status_value)


def file_exists(target: object, why: str = "") -> FileExistsError:
    """The refusal of a file already at ``target`` when ``overwrite`` is false, said one way
    by every call that writes one (``why``: how it came to be there, when that is news)."""
    return FileExistsError(f"{target} exists{why}; pass overwrite=True to replace it")


class ChatTurnError(NemoError):
    """The server reported, inside the chat stream, that the turn failed (ADK's
    ``errorCode``/``errorMessage`` event, or its ``{"error": ...}`` last line).

    Not a dropped stream: the turn ended and is not watched or re-sent (it may
    already have had effects: see ``reply.draft_changed``).

    Attributes:
        code: the server's error code or exception name (``MODEL_RETURNED_NO_CONTENT``...).
        message: the server's error message.
        reply: the ``ChatReply`` of what was received before the turn failed.
    """

    def __init__(self, code: str | None, message: str | None, *, reply: ChatReply) -> None:
        said = ": ".join(part for part in (code, message) if part) or "no details"
        super().__init__(f"the agent reported that the chat turn failed ({said})")
        self.code = code
        self.message = message
        self.reply = reply


# Deprecated aliases: the names of these classes before they took the ``Error`` suffix
# every other exception of the package has. Each is the same class object as its new
# name, so ``except RenderFailed:`` and ``isinstance(exc, RenderFailed)`` keep working;
# new code should use the ``...Error`` names.
InvalidArgument = InvalidArgumentError
UnsupportedFileType = UnsupportedFileTypeError
FileTooLarge = FileTooLargeError
ExportBlocked = ExportBlockedError
DraftNotExportable = DraftNotExportableError
InvalidDraft = InvalidDraftError
RenderFailed = RenderFailedError
RenderTimeout = RenderTimeoutError
EventTooLarge = EventTooLargeError
StreamInterrupted = StreamInterruptedError
UnsafeFilename = UnsafeFilenameError
UnknownRenderStatus = UnknownRenderStatusError

DEPRECATED_ALIASES: dict[str, str] = {
    "InvalidArgument": "InvalidArgumentError",
    "UnsupportedFileType": "UnsupportedFileTypeError",
    "FileTooLarge": "FileTooLargeError",
    "ExportBlocked": "ExportBlockedError",
    "DraftNotExportable": "DraftNotExportableError",
    "InvalidDraft": "InvalidDraftError",
    "RenderFailed": "RenderFailedError",
    "RenderTimeout": "RenderTimeoutError",
    "EventTooLarge": "EventTooLargeError",
    "StreamInterrupted": "StreamInterruptedError",
    "UnsafeFilename": "UnsafeFilenameError",
    "UnknownRenderStatus": "UnknownRenderStatusError",
}
"""Old name -> new name of every deprecated alias above."""

__all__ = [
    "ACCEPTED_FORMATS",
    "MAX_UPLOAD_BYTES",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ChatTurnError",
    "ClientClosedError",
    "ConfigurationError",
    "DownloadError",
    "DraftNotExportable",
    "DraftNotExportableError",
    "EventLoopMismatchError",
    "EventParseError",
    "EventTooLarge",
    "EventTooLargeError",
    "ExportBlocked",
    "ExportBlockedError",
    "FileTooLarge",
    "FileTooLargeError",
    "HandlerError",
    "InsufficientCreditsError",
    "InvalidArgument",
    "InvalidArgumentError",
    "InvalidDraft",
    "InvalidDraftError",
    "InvalidResponseError",
    "MissingClientIdError",
    "NemoError",
    "NotFoundError",
    "RateLimitError",
    "RenderFailed",
    "RenderFailedError",
    "RenderTimeout",
    "RenderTimeoutError",
    "ServerError",
    "SessionNotFoundError",
    "StreamError",
    "StreamInterrupted",
    "StreamInterruptedError",
    "UnknownRenderStatus",
    "UnknownRenderStatusError",
    "UnsafeFilename",
    "UnsafeFilenameError",
    "UnsupportedFileType",
    "UnsupportedFileTypeError",
]
