"""Names: every exception ends in ``Error``, resources are named like ``Renders``, and each
old name is a deprecated alias that is the very same class (``except``/``isinstance`` hold)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import nemo_sdk
import nemo_sdk.sync
from nemo_sdk import errors
from nemo_sdk.resources import credits, state

OLD_ERROR_NAMES = [
    "DraftNotExportable",
    "EventTooLarge",
    "ExportBlocked",
    "FileTooLarge",
    "InvalidArgument",
    "InvalidDraft",
    "RenderFailed",
    "RenderTimeout",
    "StreamInterrupted",
    "UnknownRenderStatus",
    "UnsafeFilename",
    "UnsupportedFileType",
]

# Exceptions that are not errors a caller sees, and so keep a name of their own: the
# emulator's internal control flow (a reply raised out of a route, a cancelled render,
# a refused token mint). Anything else must end in ``Error``.
NOT_ERRORS = {
    "nemo_sdk.emulator._http.Reply",
    "nemo_sdk.emulator.renderer.RenderCancelled",
    "nemo_sdk.emulator.store.TokenLimitReached",
}


def test_the_deprecated_aliases_table_lists_every_old_error_name() -> None:
    assert sorted(errors.DEPRECATED_ALIASES) == OLD_ERROR_NAMES
    assert all(new == f"{old}Error" for old, new in errors.DEPRECATED_ALIASES.items())


@pytest.mark.parametrize("old", OLD_ERROR_NAMES)
def test_an_old_error_name_is_the_same_class_as_its_new_name(old: str) -> None:
    new = f"{old}Error"
    cls = getattr(errors, new)
    assert getattr(errors, old) is cls
    assert getattr(nemo_sdk, old) is cls and getattr(nemo_sdk, new) is cls
    assert old in errors.__all__ and new in errors.__all__
    assert old in nemo_sdk.__all__ and new in nemo_sdk.__all__
    assert cls.__name__ == new


def test_except_with_an_old_name_catches_the_new_class() -> None:
    with pytest.raises(errors.RenderFailed):
        raise errors.RenderFailedError("failed", render_id="render_1")
    try:
        raise errors.InvalidArgumentError("bad")
    except errors.InvalidArgument as exc:
        assert isinstance(exc, errors.InvalidArgument)
        assert isinstance(exc, ValueError)


def test_old_resource_names_are_the_same_classes() -> None:
    assert credits.CreditsResource is credits.Credits
    assert state.StateResource is state.State
    assert nemo_sdk.sync.CreditsResource is nemo_sdk.sync.Credits
    assert nemo_sdk.sync.StateResource is nemo_sdk.sync.State
    assert {"CreditsResource", "StateResource", "Credits", "State"} <= set(nemo_sdk.sync.__all__)


def test_resources_are_named_after_their_client_attribute() -> None:
    nemo = nemo_sdk.NemoClient(base_url="http://127.0.0.1:9", token="t", client_id="c")
    for attribute in ("auth", "sessions", "chat", "uploads", "credits", "state", "renders"):
        assert type(getattr(nemo, attribute)).__name__ == attribute.capitalize()


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(nemo_sdk.__path__, "nemo_sdk."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed
            continue
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("nemo_sdk")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def test_every_public_exception_class_name_ends_with_error() -> None:
    classes = _exception_classes()
    assert "nemo_sdk.errors.RenderFailedError" in classes  # the walk saw the package
    offenders = sorted(
        path
        for path, cls in classes.items()
        if not cls.__name__.startswith("_")
        and not cls.__name__.endswith("Error")
        and not issubclass(cls, Warning)
        and path not in NOT_ERRORS
    )
    assert offenders == []
    assert set(classes) >= NOT_ERRORS  # the exemptions name classes that exist
