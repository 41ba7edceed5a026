"""Every public name of the async client, its resources and ChatStream has a sync counterpart."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import nemo_sdk.sync as sync
from nemo_sdk.client import NemoClient as AsyncNemoClient
from nemo_sdk.resources import auth, chat, credits, renders, sessions, state, uploads
from nemo_sdk.sync._wrap import blocking, child

# async class -> its sync view; a new resource must be added here and to nemo_sdk.sync
PAIRS: dict[type, type] = {
    AsyncNemoClient: sync.NemoClient,
    auth.Auth: sync.Auth,
    sessions.Sessions: sync.Sessions,
    credits.CreditsResource: sync.CreditsResource,
    state.StateResource: sync.StateResource,
    uploads.Uploads: sync.Uploads,
    renders.Renders: sync.Renders,
    chat.Chat: sync.Chat,
    chat.ChatStream: sync.ChatStream,
}
# the async protocols' sync names
DUNDERS = {"__aenter__": "__enter__", "__aexit__": "__exit__", "__aiter__": "__iter__"}
# written by hand in the facade, each for a reason: the context-manager protocol, the
# client's close (it also stops the loop thread), the stream's iterations
BY_HAND = {"__aenter__", "__aexit__", "__aiter__", "close", "text_deltas"}


def missing(async_cls: type, sync_cls: type) -> list[str]:
    """The public async names with no sync counterpart, or with a coroutine one."""
    problems = []
    for name, value in inspect.getmembers(async_cls):
        if name.startswith("_") and name not in DUNDERS:
            continue
        sync_name = DUNDERS.get(name, name)
        counterpart = inspect.getattr_static(sync_cls, sync_name, None)
        if counterpart is None:
            problems.append(f"{async_cls.__name__}.{name}: no sync counterpart")
        elif inspect.iscoroutinefunction(counterpart) or inspect.isasyncgenfunction(counterpart):
            problems.append(f"{async_cls.__name__}.{name}: the sync counterpart is async")
        elif (
            inspect.iscoroutinefunction(value)
            and name not in BY_HAND
            and not isinstance(counterpart, blocking)
        ):
            problems.append(f"{async_cls.__name__}.{name}: not run on the loop (use blocking)")
    return problems


def test_every_async_public_name_has_a_sync_counterpart() -> None:
    problems = [p for a, s in PAIRS.items() for p in missing(a, s)]
    assert problems == []


def test_the_check_fails_for_a_new_async_method() -> None:
    class Grown(renders.Renders):
        async def restart(self, render_id: str) -> None:
            """A method added to the async resource and forgotten in the facade."""

    assert missing(Grown, sync.Renders) == ["Grown.restart: no sync counterpart"]


def test_the_check_fails_for_a_coroutine_counterpart() -> None:
    class Lazy(sync.Renders):
        async def get(self, render_id: str) -> None:  # type: ignore[override]
            """Written again, async: not a sync counterpart."""

    assert missing(renders.Renders, Lazy) == ["Renders.get: the sync counterpart is async"]


def test_every_resource_of_the_client_is_a_sync_view() -> None:
    resources = {"auth", "sessions", "credits", "state", "uploads", "renders", "chat"}
    for name in resources:
        assert isinstance(inspect.getattr_static(sync.NemoClient, name), child), name


def test_sync_methods_show_the_async_signature_and_docstring() -> None:
    with sync.NemoClient(token="t", client_id="c", journal_path=False) as nemo:
        method = nemo.renders.wait
        params = list(inspect.signature(renders.Renders.wait).parameters)
        assert list(inspect.signature(method).parameters) == params[1:]  # minus self
        assert method.__doc__ == renders.Renders.wait.__doc__
        assert sync.Renders.wait.__doc__ == renders.Renders.wait.__doc__


def _overloads(path: str, class_name: str) -> dict[str, list[str]]:
    """method -> its ``@overload`` signatures (as text, module prefixes dropped) in a class."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in ast.walk(node):
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                    ast.unparse(d) == "overload" for d in item.decorator_list
                ):
                    text = f"({ast.unparse(item.args)}) -> {ast.unparse(item.returns)}"  # type: ignore[arg-type]
                    found.setdefault(item.name, []).append(re.sub(r"\b_?\w+\.(?=\w)", "", text))
    return found


def test_overloaded_async_methods_have_the_same_sync_overloads() -> None:
    # ``blocking`` carries one signature; an overloaded method is spelled out for type
    # checkers in the facade, and must stay what the async one says.
    for async_cls, sync_cls in PAIRS.items():
        expected = _overloads(inspect.getfile(async_cls), async_cls.__name__)
        actual = _overloads(inspect.getfile(sync_cls), sync_cls.__name__)
        assert actual == expected, async_cls.__name__


def test_the_overload_check_sees_the_download_overloads() -> None:
    overloads = _overloads(inspect.getfile(renders.Renders), "Renders")
    assert len(overloads["download"]) == 2 and "-> int" in overloads["download"][1]


def test_the_sync_client_takes_the_async_client_arguments() -> None:
    assert inspect.signature(sync.NemoClient) == inspect.signature(AsyncNemoClient)
