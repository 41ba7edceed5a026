"""Checks of caller-supplied numbers and names: ``InvalidArgumentError`` before a request.

A NaN slips through every comparison (``nan <= 0`` is false) and goes out as
the invalid JSON token ``NaN``; a bool is an ``int`` to Python. So numbers are
checked for type, finiteness and sign here, once, for every resource that
takes them.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import errors
from .export_options import check_output


def _real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise errors.InvalidArgumentError(f"{name} must be a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise errors.InvalidArgumentError(f"{name} must be a finite number, not {value!r}")
    return number


def positive_number(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number above zero."""
    number = _real(name, value)
    if number <= 0:
        raise errors.InvalidArgumentError(f"{name} must be above zero, not {value!r}")
    return number


def non_negative_number(name: str, value: object) -> float:
    """``value`` as a float if it is a finite number, zero or more."""
    number = _real(name, value)
    if number < 0:
        raise errors.InvalidArgumentError(f"{name} must not be negative, not {value!r}")
    return number


def positive_int(name: str, value: object) -> int:
    """``value`` as an int if it is a whole number above zero (``1920``, not ``"1920"``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise errors.InvalidArgumentError(f"{name} must be a whole number, not {value!r}")
    if int(value) <= 0:
        raise errors.InvalidArgumentError(f"{name} must be above zero, not {value!r}")
    return int(value)


def text(name: str, value: object) -> str:
    """``value`` if it is a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidArgumentError(f"{name} must be a non-empty string, not {value!r}")
    return value


def output_options(
    format: object, quality: object, width: object, height: object, fps: object
) -> dict[str, Any]:
    """The export's ``output`` object, every field checked (API.md "POST .../lambda")."""
    output: dict[str, Any] = {"format": text("format", format), "quality": text("quality", quality)}
    check_output(output["format"], output["quality"])
    if width is not None:
        output["width"] = positive_int("width", width)
    if height is not None:
        output["height"] = positive_int("height", height)
    if fps is not None:
        fps_value = positive_number("fps", fps)
        output["fps"] = int(fps_value) if fps_value.is_integer() else fps_value
    return output


def optional_positive(name: str, value: object) -> float | None:
    """``None``, or ``value`` checked by :func:`positive_number`."""
    return None if value is None else positive_number(name, value)


def optional_non_negative(name: str, value: object) -> float | None:
    """``None``, or ``value`` checked by :func:`non_negative_number`."""
    return None if value is None else non_negative_number(name, value)
