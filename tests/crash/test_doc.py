"""docs/reliability.md carries the crash section as scripts/reliability_report.py writes it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_crash_section_is_current() -> None:
    spec = importlib.util.spec_from_file_location("report", ROOT / "scripts/reliability_report.py")
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    doc = (ROOT / "docs/reliability.md").read_text()
    section = report.crash_section(doc)
    assert section in doc, "regenerate it: .venv/bin/python scripts/reliability_report.py"
    assert doc.count(report.CRASH_BEGIN) == doc.count(report.CRASH_END) == 1
