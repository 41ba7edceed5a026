"""The draft (timeline) wire models: ``Draft`` -> ``Track`` -> ``Segment``.

The service speaks a compact format (API.md, "The draft (timeline) format"):
``t`` tracks, ``tt`` track type, ``sg`` segments, ``d`` duration (ms), ``m``
metadata; our emulator adds ``s`` (segment start, ms). The models expose
readable names and keep the compact keys as aliases.

Real drafts carry many more fields than these, and a draft read from the
service is sent back for export, so every model here is lossless
(:class:`WireModel`): unknown fields are kept, keys come back in the order they
arrived, fields absent on input stay absent, ``null`` stays ``null``, and
``model_dump_json`` writes what ``json.dumps`` would, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError
from typing_extensions import Self

from ..errors import InvalidDraftError

__all__ = ["Draft", "Segment", "Track", "TrackType", "WireModel"]


def _input_keys(name: str, field: FieldInfo) -> tuple[str, ...]:
    """Wire keys that fill ``field``, by priority (as pydantic reads them)."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return (alias,)
    if isinstance(alias, AliasChoices):
        return tuple(c for c in alias.choices if isinstance(c, str))
    return (field.alias or name,)


def _output_key(name: str, field: FieldInfo, by_alias: bool) -> str:
    """The key pydantic's own serializer gives ``field``."""
    if by_alias:
        return field.serialization_alias or field.alias or name
    return name


def _has_empty_container_default(field: FieldInfo) -> bool:
    return field.default_factory in (list, dict)


class WireModel(BaseModel):
    """A lossless pydantic model of a JSON object the service owns.

    - Unknown keys are kept (``extra="allow"``) and everything is written back
      in the order it arrived; fields added later go after them.
    - A declared field absent on input, or never set by the caller, is not
      written (unless its value moved away from the default, e.g. a list the
      caller appended to); a field that arrived as ``null`` is written as
      ``null``, even a list or dict field that reads as empty in Python.
    - Readable field names fill the fields too (``populate_by_name``), unless
      the compact key is also present: then the readable one (``"tracks"``
      next to ``"t"``) is an unknown field, kept as is.
    - ``model_dump_json`` goes through :func:`json.dumps`, so floats and
      escapes are formatted exactly as Python's ``json`` does.
    - Two models are equal when they hold the same content, whatever the key
      order or the alias spelling it arrived with.
    - Known limit: a dump *by readable name* (``by_alias=False``) of an input
      that held an unknown key spelled like a readable field name (``tracks``
      next to ``t``) has one key for both; the wire dump is not affected.
    """

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        # Build validators on first use, not at import: it keeps `import nemo_sdk` light.
        defer_build=True,
        # Python's json writes Infinity/NaN; keep the same so dumps stay identical.
        ser_json_inf_nan="constants",
        # Inputs stay out of validation errors: a server may echo the bearer token in any field.
        hide_input_in_errors=True,
    )

    # (is_field, field name or unknown key), in input order.
    _wire_order: tuple[tuple[bool, str], ...] = PrivateAttr(default=())
    # field name -> the input key that filled it (matters with AliasChoices).
    _wire_keys: dict[str, str] = PrivateAttr(default_factory=dict)
    # list/dict fields that arrived as null.
    _wire_nulls: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="wrap")
    @classmethod
    def _remember_wire_shape(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if not isinstance(data, Mapping):
            return handler(data)
        fields = cls.model_fields
        accepted = {name: _input_keys(name, f) for name, f in fields.items()}
        aliases = {k for name, keys in accepted.items() for k in keys if k != name}
        chosen: dict[str, str] = {}  # input key -> field name
        wire_keys: dict[str, str] = {}  # field name -> wire key it came in
        for name, keys in accepted.items():
            key = next((k for k in keys if k in data), None)
            if key is not None:
                wire_keys[name] = key
            elif name in data:
                key = name  # given by readable name: written back under the alias
            if key is not None:
                chosen[key] = name
        claimable = aliases | set(fields)

        feed: dict[Any, Any] = {}
        held: dict[str, Any] = {}  # unknown keys pydantic would take for a field
        order: list[tuple[bool, str]] = []
        nulls: set[str] = set()
        for key, value in data.items():
            if key in chosen:
                name = chosen[key]
                order.append((True, name))
                if value is None and _has_empty_container_default(fields[name]):
                    nulls.add(name)
                else:
                    feed[name] = value
            elif key in claimable:
                held[key] = value
                order.append((False, key))
            else:
                feed[key] = value
                order.append((False, str(key)))

        model = handler(feed)
        if held:
            if model.__pydantic_extra__ is None:  # pragma: no cover - extra="allow" always
                model.__pydantic_extra__ = {}
            model.__pydantic_extra__.update(held)
        model._wire_order = tuple(order)
        model._wire_keys = wire_keys
        model._wire_nulls = frozenset(nulls)
        return model

    @model_serializer(mode="wrap")
    def _serialize_in_wire_order(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        if not isinstance(data, dict):  # pragma: no cover - a model always dumps to a dict
            return data
        by_alias = bool(info.by_alias)
        fields = type(self).model_fields
        fields_set = self.model_fields_set
        private = self.__pydantic_private__ or {}
        nulls: frozenset[str] = private.get("_wire_nulls", frozenset())
        wire_keys: dict[str, str] = private.get("_wire_keys", {})
        order: tuple[tuple[bool, str], ...] = private.get("_wire_order", ())

        emitted: dict[str, str] = {}  # field name -> key in `data`
        for name, field in fields.items():
            key = _output_key(name, field, by_alias)
            if key not in data:
                continue  # excluded by the caller (exclude=..., exclude_none=...)
            value = getattr(self, name)
            default = field.get_default(call_default_factory=True)
            if name in nulls and value == default:
                data[key] = None
            elif name not in fields_set and name not in nulls and value == default:
                del data[key]
                continue
            emitted[name] = key

        def out_key(name: str) -> str:
            # Write a field back under the very key it came in (one of AliasChoices).
            return wire_keys.get(name, emitted[name]) if by_alias else emitted[name]

        result: dict[str, Any] = {}
        field_keys = set(emitted.values())
        for is_field, ident in order:
            if is_field:
                if ident in emitted:
                    result[out_key(ident)] = data[emitted[ident]]
            elif ident in data and ident not in field_keys:
                result[ident] = data[ident]
        placed = {name for is_field, name in order if is_field}
        placed_extras = {key for is_field, key in order if not is_field}
        for name in emitted:
            if name not in placed:
                result[out_key(name)] = data[emitted[name]]
        for key, value in data.items():
            if key not in field_keys and key not in placed_extras:
                result[key] = value
        return result

    @classmethod
    def from_wire(cls, value: Any) -> Self:
        """Read ``value`` (a JSON object of the service); ``InvalidDraftError`` if it cannot be.

        Unlike :meth:`model_validate`, only a :class:`~nemo_sdk.NemoError` comes out.
        """
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            raise InvalidDraftError(
                f"not a valid {cls.__name__}: {_summary(exc)}", problems=exc.error_count()
            ) from exc
        except RecursionError as exc:
            raise InvalidDraftError(f"not a valid {cls.__name__}: nested too deeply") from exc

    def model_dump_json(
        self, *, indent: int | None = None, ensure_ascii: bool = False, **kwargs: Any
    ) -> str:
        """JSON text of :meth:`model_dump` (``mode="json"``), written by :func:`json.dumps`.

        pydantic-core formats some floats differently from Python (``1e-05``
        as ``0.00001``); a draft sent back must match what was received, so the
        text comes from the standard library. Without ``indent`` the output is
        compact (no spaces); non-ASCII text is kept unless ``ensure_ascii``.
        Other keyword arguments are those of :meth:`model_dump`.
        """
        data = self._dump(kwargs)
        separators = (",", ":") if indent is None else (",", ": ")
        try:
            return json.dumps(data, indent=indent, ensure_ascii=ensure_ascii, separators=separators)
        except RecursionError as exc:
            raise InvalidDraftError(f"this {type(self).__name__} is nested too deeply") from exc

    def to_wire(self) -> dict[str, Any]:
        """The JSON object the service expects: compact keys, input order, unknown keys kept.

        Raises:
            InvalidDraftError: the content is nested deeper than the serializer goes.
        """
        return self._dump({"by_alias": True})

    def _dump(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            data: dict[str, Any] = self.model_dump(mode="json", **kwargs)
        except PydanticSerializationError as exc:
            # pydantic-core stops at a fixed depth (a few hundred levels of nested
            # metadata): a typed error, not pydantic's.
            raise InvalidDraftError(f"cannot write this {type(self).__name__}: {exc}") from exc
        return data

    def __eq__(self, other: object) -> bool:
        # pydantic's equality compares private state (the recorded key order and
        # spelling); what matters is the content.
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, WireModel)
        return bool(self.model_dump() == other.model_dump())


class TrackType(IntEnum):
    """Known values of a track's ``tt``. Other integers are kept as plain ``int``."""

    VIDEO = 0
    AUDIO = 1  # the BGM track in the service's own summaries
    TEXT = 7  # titles


def _as_track_type(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return TrackType(value)
        except ValueError:
            return value  # real drafts may use types we do not know: keep the number
    # Coercing "7", 7.0 or true to 7 would change the draft sent back for export.
    raise ValueError(f"a track type is an integer, got {type(value).__name__}")


def _summary(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "the object"
    more = exc.error_count() - 1
    return f"{where}: {first.get('msg', 'invalid')}" + (f" (+{more} more)" if more else "")


class Segment(WireModel):
    """One clip, sound or title on a track.

    ``metadata`` (``m``) holds what the segment plays, e.g. ``url`` (media),
    ``text`` (titles), ``volume`` (0-1), ``src_in`` (trim start, ms), ``name``.
    Without ``start_ms`` (``s``) a segment starts where the previous one ended.
    """

    # Strict: "5" or true read as 5 or 1 would be sent back changed.
    duration_ms: StrictInt | StrictFloat | None = Field(default=None, alias="d")
    start_ms: StrictInt | StrictFloat | None = Field(default=None, alias="s")
    metadata: dict[str, Any] = Field(default_factory=dict, alias="m")


class Track(WireModel):
    """A track of the timeline: its type (``tt``) and its segments (``sg``)."""

    track_type: TrackType | int | None = Field(default=None, alias="tt")
    segments: list[Segment] = Field(default_factory=list, alias="sg")

    @field_validator("track_type", mode="before")
    @classmethod
    def _known_track_type(cls, value: Any) -> Any:
        return _as_track_type(value)

    @field_serializer("track_type")
    def _plain_track_type(self, value: TrackType | int | None) -> int | None:
        # dumps hold plain JSON types, not the IntEnum
        return None if value is None else int(value)

    @classmethod
    def video(cls, segments: Iterable[Segment] = ()) -> Track:
        """A video track (``tt`` 0) holding ``segments``."""
        return cls(track_type=TrackType.VIDEO, segments=list(segments))

    @classmethod
    def audio(cls, segments: Iterable[Segment] = ()) -> Track:
        """An audio (BGM) track (``tt`` 1) holding ``segments``."""
        return cls(track_type=TrackType.AUDIO, segments=list(segments))

    @classmethod
    def text(cls, segments: Iterable[Segment] = ()) -> Track:
        """A text (title) track (``tt`` 7) holding ``segments``."""
        return cls(track_type=TrackType.TEXT, segments=list(segments))

    def segment_spans(self) -> list[tuple[int | float, int | float]]:
        """``(start_ms, end_ms)`` of each segment, in order.

        A segment starts at its ``s`` when present, else where the previous
        segment of the track ended (API.md, "Emulator choices"); a segment
        without ``d`` lasts 0 ms.
        """
        spans: list[tuple[int | float, int | float]] = []
        cursor: int | float = 0
        for segment in self.segments:
            start = cursor if segment.start_ms is None else segment.start_ms
            end = start + (segment.duration_ms or 0)
            spans.append((start, end))
            cursor = end
        return spans


class Draft(WireModel):
    """The session's timeline, as read from the state and sent back for export."""

    tracks: list[Track] = Field(default_factory=list, alias="t")
    duration_ms: StrictInt | StrictFloat | None = Field(default=None, alias="d")
    metadata: dict[str, Any] = Field(default_factory=dict, alias="m")

    @property
    def is_exportable(self) -> bool:
        """``t`` exists and at least one track has a non-empty ``sg`` (API.md)."""
        return any(track.segments for track in self.tracks)

    @property
    def end_ms(self) -> int | float:
        """Where the last segment ends (ms), computed from the segments; 0 when empty.

        This is the timeline's own length; ``duration_ms`` is what the service declared.
        """
        return max(
            (end for track in self.tracks for _, end in track.segment_spans()),
            default=0,
        )
