"""OpenTelemetry's own SDK with its in-memory exporter, read back after each test.

The global tracer provider can be set once per process: the first test sets one
(or, if google-adk's tests set theirs first, joins it) with a gate that keeps only
what is exported while a test holds :func:`spans`, so the rest of the suite's spans
do not pile up in memory. Without the SDK (the otel-test extra) those tests skip;
the ones that check OpenTelemetry is *not* loaded need nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# The emulator and client of the workflow tests (small, quick renders), for these too.
from tests.workflows.conftest import client, emulator  # noqa: F401

NO_OTEL_SDK = "the otel-test extra: pip install -e '.[otel-test]'"
_exporter: Any = None
_gate: Any = None


def _install() -> tuple[Any, Any]:
    """The exporter and its gate, installed on the global provider once."""
    global _exporter, _gate
    if _exporter is not None:
        return _exporter, _gate
    pytest.importorskip("opentelemetry.sdk", reason=NO_OTEL_SDK)
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    class Gate(SimpleSpanProcessor):
        """Exports only while a test holds the gate open."""

        open = False

        def on_end(self, span: ReadableSpan) -> None:
            if self.open:
                super().on_end(span)

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    gate = Gate(exporter)
    provider.add_span_processor(gate)
    _exporter, _gate = exporter, gate
    return exporter, gate


@pytest.fixture
def spans() -> Iterator[Any]:
    """The in-memory exporter, empty at the start; what the test's code ended is in it."""
    exporter, gate = _install()
    exporter.clear()
    gate.open = True
    try:
        yield exporter
    finally:
        gate.open = False
        exporter.clear()
