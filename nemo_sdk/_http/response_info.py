"""The HTTP answer behind a result: status, headers, request id and raw body.

Support tickets need the request id of a call that *worked* too; the models' fields
stay the API's data, so the answer rides beside them (openai-python's ``_request_id``
convention) and :func:`response_info` reads it back. Nothing here does I/O.
"""

from __future__ import annotations

import json
import weakref
from typing import Any, Protocol, TypeVar

from multidict import CIMultiDictProxy

from .envelope import request_id_of

T = TypeVar("T")


class ResponseInfo:
    """One HTTP answer the SDK decoded: ``status``, ``headers``, ``request_id``, ``body``.

    ``body`` is the bytes the transport already read (the same object, not a copy);
    :meth:`json` parses it again, as the raw escape hatch to fields no model declares.
    """

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: CIMultiDictProxy[str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def request_id(self) -> str | None:
        """The server's id for this request (``X-Request-Id``), to quote in a support ticket."""
        return request_id_of(self.headers)

    def json(self) -> Any:
        """The raw body parsed as JSON (the whole envelope, before any model)."""
        return json.loads(self.body)

    def __repr__(self) -> str:  # no headers or body: they may carry cookies or user data
        return f"<ResponseInfo status={self.status} request_id={self.request_id!r}>"


class _Ref(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a result, holding its answer; gone with the result."""

    __slots__ = ("info", "key")
    info: ResponseInfo
    key: int


# id(result) -> its answer. Beside the model, not in it: ``==``, ``hash``, ``repr``,
# ``model_dump``, pickling and copies stay exactly pydantic's. Not a WeakKeyDictionary:
# that keys on ``==``, and two balances read by two calls are equal.
_ANSWERS: dict[int, _Ref] = {}


def _gone(ref: weakref.ref[Any]) -> None:
    assert isinstance(ref, _Ref)
    if _ANSWERS.get(ref.key) is ref:
        del _ANSWERS[ref.key]


def attach(result: T, info: ResponseInfo) -> T:
    """Remember ``info`` as the answer ``result`` (or each item of a list) came from."""
    for item in result if isinstance(result, list) else (result,):
        ref = _Ref(item, _gone)
        ref.info = info
        ref.key = id(item)
        _ANSWERS[ref.key] = ref
    return result


class _Answer(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> CIMultiDictProxy[str]: ...


def answered_by(reply: T, response: _Answer | None) -> T:
    """Remember the streamed ``response`` (``POST /run_sse``) as ``reply``'s answer.

    A stream's body is not kept (it was the events): the answer's ``body`` is empty.
    """
    if response is not None:
        attach(reply, ResponseInfo(response.status, response.headers, b""))
    return reply


def response_info(result: object) -> ResponseInfo | None:
    """The HTTP answer a result was built from: status, headers, ``request_id``, raw body.

    A ``ChatReply`` has the answer of its ``POST /run_sse`` stream (status, headers,
    request id; ``body`` is empty: the events were the body), or ``None`` when the
    stream never started. ``None`` too for a downloaded ``Path``, or a model you built
    yourself or copied.
    """
    ref = _ANSWERS.get(id(result))
    if ref is None or ref() is not result:  # an id reused by a newer object
        return None
    return ref.info
