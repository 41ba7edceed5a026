"""nemo_sdk: the async Python SDK for the NemoVideo agent API.

Every public name is imported on first use (PEP 562), not by ``import nemo_sdk``:
a program pays for the client, pydantic's model machinery and aiohttp's client only
when it touches them, and ``import nemo_sdk`` stays cheap.

To add a public name: one line in ``_EXPORTS`` (name -> the module that defines it),
then ``python scripts/lazy_exports.py`` writes the ``TYPE_CHECKING`` imports from it
(what mypy, pyright and IDEs read). ``tests/unit/test_public_names.py`` checks that the
two agree and that every name imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import attach
from ._version import __version__

_EXPORTS: dict[str, str] = {  # public name -> the module that defines it
    "NemoClient": ".client",
    "Attribution": ".config",
    "ChatSettings": ".config",
    "ClientConfig": ".config",
    "ClientOptions": ".config",
    "Limits": ".config",
    "RenderSettings": ".config",
    "RetrySettings": ".config",
    "Timeouts": ".config",
    "APIConnectionError": ".errors",
    "APIError": ".errors",
    "APITimeoutError": ".errors",
    "AuthenticationError": ".errors",
    "BadRequestError": ".errors",
    "ChatTurnError": ".errors",
    "ClientClosedError": ".errors",
    "ConfigurationError": ".errors",
    "DownloadError": ".errors",
    "DraftNotExportableError": ".errors",
    "EventLoopMismatchError": ".errors",
    "EventParseError": ".errors",
    "EventTooLargeError": ".errors",
    "ExportBlockedError": ".errors",
    "FileTooLargeError": ".errors",
    "HandlerError": ".errors",
    "InsufficientCreditsError": ".errors",
    "InvalidArgumentError": ".errors",
    "InvalidDraftError": ".errors",
    "InvalidResponseError": ".errors",
    "MissingClientIdError": ".errors",
    "NemoError": ".errors",
    "NotFoundError": ".errors",
    "RateLimitError": ".errors",
    "RenderFailedError": ".errors",
    "RenderTimeoutError": ".errors",
    "ServerError": ".errors",
    "SessionNotFoundError": ".errors",
    "StreamError": ".errors",
    "StreamInterruptedError": ".errors",
    "UnknownRenderStatusError": ".errors",
    "UnsafeFilenameError": ".errors",
    "UnsupportedFileTypeError": ".errors",
    "ActionsEvent": ".events",
    "ChatEvent": ".events",
    "ErrorEvent": ".events",
    "EventHandler": ".events",
    "Heartbeat": ".events",
    "TextDelta": ".events",
    "Thought": ".events",
    "ToolCall": ".events",
    "ToolResult": ".events",
    "UnknownEvent": ".events",
    "ChatReply": "._chat.reply",
    "Credits": ".models.credits",
    "Draft": ".models.draft",
    "Segment": ".models.draft",
    "Track": ".models.draft",
    "TrackType": ".models.draft",
    "PendingRender": ".models.render",
    "RenderJob": ".models.render",
    "RenderStatus": ".models.render",
    "AnonymousToken": ".models.session",
    "ClaimLink": ".models.session",
    "Session": ".models.session",
    "CanvasConfig": ".models.state",
    "SessionState": ".models.state",
    "UploadedFile": ".models.upload",
    "Progress": ".progress",
    "ResponseInfo": "._http.response_info",
    "response_info": "._http.response_info",
    "ChatStream": ".resources.chat",
    "Action": ".routing",
    "Route": ".routing",
    "SuggestedAction": ".routing",
    "route": ".routing",
    "DraftDiff": ".timeline",
    "diff_drafts": ".timeline",
    "format_timeline": ".timeline",
    "BatchItem": ".workflows",
    "BatchResult": ".workflows",
    "GenerateResult": ".workflows",
    "Iteration": ".workflows",
    # Deprecated aliases (the same classes as their ``...Error`` names): see errors.py.
    "DraftNotExportable": ".errors",
    "EventTooLarge": ".errors",
    "ExportBlocked": ".errors",
    "FileTooLarge": ".errors",
    "InvalidArgument": ".errors",
    "InvalidDraft": ".errors",
    "RenderFailed": ".errors",
    "RenderTimeout": ".errors",
    "StreamInterrupted": ".errors",
    "UnknownRenderStatus": ".errors",
    "UnsafeFilename": ".errors",
    "UnsupportedFileType": ".errors",
}

if TYPE_CHECKING:
    from ._chat.reply import ChatReply as ChatReply
    from ._http.response_info import ResponseInfo as ResponseInfo
    from ._http.response_info import response_info as response_info
    from .client import NemoClient as NemoClient
    from .config import Attribution as Attribution
    from .config import ChatSettings as ChatSettings
    from .config import ClientConfig as ClientConfig
    from .config import ClientOptions as ClientOptions
    from .config import Limits as Limits
    from .config import RenderSettings as RenderSettings
    from .config import RetrySettings as RetrySettings
    from .config import Timeouts as Timeouts
    from .errors import APIConnectionError as APIConnectionError
    from .errors import APIError as APIError
    from .errors import APITimeoutError as APITimeoutError
    from .errors import AuthenticationError as AuthenticationError
    from .errors import BadRequestError as BadRequestError
    from .errors import ChatTurnError as ChatTurnError
    from .errors import ClientClosedError as ClientClosedError
    from .errors import ConfigurationError as ConfigurationError
    from .errors import DownloadError as DownloadError
    from .errors import DraftNotExportable as DraftNotExportable
    from .errors import DraftNotExportableError as DraftNotExportableError
    from .errors import EventLoopMismatchError as EventLoopMismatchError
    from .errors import EventParseError as EventParseError
    from .errors import EventTooLarge as EventTooLarge
    from .errors import EventTooLargeError as EventTooLargeError
    from .errors import ExportBlocked as ExportBlocked
    from .errors import ExportBlockedError as ExportBlockedError
    from .errors import FileTooLarge as FileTooLarge
    from .errors import FileTooLargeError as FileTooLargeError
    from .errors import HandlerError as HandlerError
    from .errors import InsufficientCreditsError as InsufficientCreditsError
    from .errors import InvalidArgument as InvalidArgument
    from .errors import InvalidArgumentError as InvalidArgumentError
    from .errors import InvalidDraft as InvalidDraft
    from .errors import InvalidDraftError as InvalidDraftError
    from .errors import InvalidResponseError as InvalidResponseError
    from .errors import MissingClientIdError as MissingClientIdError
    from .errors import NemoError as NemoError
    from .errors import NotFoundError as NotFoundError
    from .errors import RateLimitError as RateLimitError
    from .errors import RenderFailed as RenderFailed
    from .errors import RenderFailedError as RenderFailedError
    from .errors import RenderTimeout as RenderTimeout
    from .errors import RenderTimeoutError as RenderTimeoutError
    from .errors import ServerError as ServerError
    from .errors import SessionNotFoundError as SessionNotFoundError
    from .errors import StreamError as StreamError
    from .errors import StreamInterrupted as StreamInterrupted
    from .errors import StreamInterruptedError as StreamInterruptedError
    from .errors import UnknownRenderStatus as UnknownRenderStatus
    from .errors import UnknownRenderStatusError as UnknownRenderStatusError
    from .errors import UnsafeFilename as UnsafeFilename
    from .errors import UnsafeFilenameError as UnsafeFilenameError
    from .errors import UnsupportedFileType as UnsupportedFileType
    from .errors import UnsupportedFileTypeError as UnsupportedFileTypeError
    from .events import ActionsEvent as ActionsEvent
    from .events import ChatEvent as ChatEvent
    from .events import ErrorEvent as ErrorEvent
    from .events import EventHandler as EventHandler
    from .events import Heartbeat as Heartbeat
    from .events import TextDelta as TextDelta
    from .events import Thought as Thought
    from .events import ToolCall as ToolCall
    from .events import ToolResult as ToolResult
    from .events import UnknownEvent as UnknownEvent
    from .models.credits import Credits as Credits
    from .models.draft import Draft as Draft
    from .models.draft import Segment as Segment
    from .models.draft import Track as Track
    from .models.draft import TrackType as TrackType
    from .models.render import PendingRender as PendingRender
    from .models.render import RenderJob as RenderJob
    from .models.render import RenderStatus as RenderStatus
    from .models.session import AnonymousToken as AnonymousToken
    from .models.session import ClaimLink as ClaimLink
    from .models.session import Session as Session
    from .models.state import CanvasConfig as CanvasConfig
    from .models.state import SessionState as SessionState
    from .models.upload import UploadedFile as UploadedFile
    from .progress import Progress as Progress
    from .resources.chat import ChatStream as ChatStream
    from .routing import Action as Action
    from .routing import Route as Route
    from .routing import SuggestedAction as SuggestedAction
    from .routing import route as route
    from .timeline import DraftDiff as DraftDiff
    from .timeline import diff_drafts as diff_drafts
    from .timeline import format_timeline as format_timeline
    from .workflows import BatchItem as BatchItem
    from .workflows import BatchResult as BatchResult
    from .workflows import GenerateResult as GenerateResult
    from .workflows import Iteration as Iteration

__all__ = ["__version__", *_EXPORTS]

__getattr__, __dir__ = attach(__name__, _EXPORTS, submodules=True)
