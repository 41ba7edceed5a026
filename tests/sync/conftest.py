"""A sync client on an emulator that serves from its own thread (no test event loop)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nemo_sdk.sync import NemoClient
from nemo_sdk.testing import _client_kwargs


@pytest.fixture
def nemo_emulator_knobs() -> dict[str, Any]:
    return {
        "starting_credits": 10_000,
        "render_seconds": 0.05,
        "clip_seconds": 1,
        "clip_width": 160,
        "clip_height": 90,
        "clip_fps": 12,
    }


@pytest.fixture
def client_kwargs(nemo_emulator: Any, tmp_path: Path) -> dict[str, Any]:
    return _client_kwargs(nemo_emulator, tmp_path)


@pytest.fixture
def nemo(client_kwargs: dict[str, Any]) -> Iterator[NemoClient]:
    with NemoClient(**client_kwargs) as client:
        yield client
