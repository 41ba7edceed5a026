"""Typed descriptors that turn an async class's methods into blocking ones.

Each sync class declares, one line a method, which async method it runs
(``get = blocking(Renders.get)``): the signature and the return type come from the
async method itself through ``ParamSpec``, so mypy checks sync calls exactly as the
async ones, and nothing is written twice. The call itself goes through ``getattr``
on the wrapped object, so a subclass's override or a ``with_options`` copy is honoured.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from ._portal import LoopThread

S = TypeVar("S")  # the async object
R = TypeVar("R")  # what its method returns
W = TypeVar("W")  # the sync wrapper of that
F = TypeVar("F", bound="Facade[Any]")
P = ParamSpec("P")

__all__ = ["Facade", "blocking", "child", "wrapped"]


class Facade(Generic[S]):
    """A sync view of one async object, calling it on a :class:`LoopThread`."""

    def __init__(self, target: S, portal: LoopThread) -> None:
        self._target = target
        self._portal = portal


class _Named:
    _name = ""
    _signature: inspect.Signature | None = None

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def _as_bound(self, call: Callable[..., Any], method: Callable[..., Any]) -> None:
        """Show ``method``'s docstring and its signature minus ``self`` on ``call``."""
        functools.update_wrapper(call, method)
        if self._signature is None:  # computed once: a method is read at every call
            signature = inspect.signature(method)
            self._signature = signature.replace(parameters=list(signature.parameters.values())[1:])
        call.__signature__ = self._signature  # type: ignore[attr-defined]


class blocking(_Named, Generic[S, P, R]):
    """``name = blocking(AsyncClass.name)``: the async method, run to its end on the loop."""

    def __init__(self, method: Callable[Concatenate[S, P], Awaitable[R]]) -> None:
        self.method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type) -> blocking[S, P, R]: ...
    @overload
    def __get__(self, obj: Facade[S], owner: type) -> Callable[P, R]: ...
    def __get__(self, obj: Facade[S] | None, owner: type) -> Any:
        if obj is None:
            return self
        name, target, portal = self._name, obj._target, obj._portal

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            method = cast("Callable[P, Awaitable[R]]", getattr(target, name))
            return portal.run(lambda: method(*args, **kwargs))

        self._as_bound(call, self.method)
        return call


class wrapped(_Named, Generic[S, P, R, W]):
    """``name = wrapped(AsyncClass.name, SyncType)``: a sync method whose result is
    wrapped in its sync view (``chat.stream`` -> a sync ``ChatStream``)."""

    def __init__(
        self,
        method: Callable[Concatenate[S, P], R],
        wrap: Callable[[R, LoopThread], W],
    ) -> None:
        self.method, self.wrap = method, wrap
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type) -> wrapped[S, P, R, W]: ...
    @overload
    def __get__(self, obj: Facade[S], owner: type) -> Callable[P, W]: ...
    def __get__(self, obj: Facade[S] | None, owner: type) -> Any:
        if obj is None:
            return self
        name, target, portal, wrap = self._name, obj._target, obj._portal, self.wrap

        def call(*args: P.args, **kwargs: P.kwargs) -> W:
            method = cast("Callable[P, R]", getattr(target, name))
            return wrap(method(*args, **kwargs), portal)

        self._as_bound(call, self.method)
        return call


class child(_Named, Generic[F]):
    """``renders = child(Renders)``: the sync view of the attribute of the same name
    (made on first read, as the async client makes its resources)."""

    def __init__(self, facade: type[F]) -> None:
        self.facade = facade
        self.__doc__ = facade.__doc__

    @overload
    def __get__(self, obj: None, owner: type) -> child[F]: ...
    @overload
    def __get__(self, obj: Facade[Any], owner: type) -> F: ...
    def __get__(self, obj: Facade[Any] | None, owner: type) -> Any:
        if obj is None:
            return self
        view = self.facade(getattr(obj._target, self._name), obj._portal)
        obj.__dict__[self._name] = view  # a non-data descriptor: later reads skip this
        return view
