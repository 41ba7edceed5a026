"""``docs/reliability.md`` lists every case of the fault matrix, as the matrix says it ends.

The doc is written by ``scripts/reliability_report.py`` from a test run; this test
fails when a case is added, removed or changes its documented outcome without
the doc being regenerated.
"""

from __future__ import annotations

import re
from pathlib import Path

from .matrix import CASES, KIND_LABELS, OP_LABELS, ROUTE, case_id, requests_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
ROW = re.compile(r"^\| `(?P<id>[a-z0-9-]+)` \| (?P<outcome>[^|]+) \| (?P<requests>[^|]+) \|")
REGENERATE = "regenerate it: .venv/bin/python scripts/reliability_report.py"


def _rows() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            rows[match["id"]] = (match["outcome"].strip(), match["requests"].strip())
    return rows


def test_every_case_is_in_the_doc_and_nothing_else() -> None:
    rows = _rows()
    expected = {case_id(op, kind) for op, kind in CASES}
    assert set(rows) == expected, (
        f"missing: {sorted(expected - set(rows))}; stale: {sorted(set(rows) - expected)}; "
        + REGENERATE
    )


def test_each_case_says_its_documented_outcome() -> None:
    rows = _rows()
    for (op, kind), expect in CASES.items():
        outcome, requests = rows[case_id(op, kind)]
        if expect.xfail:
            assert outcome.endswith("(xfail)"), f"{case_id(op, kind)}: {REGENERATE}"
            continue
        shown = "recovered" if expect.error is None else f"`{expect.error.__name__}`"
        assert (outcome, requests) == (shown, requests_text(op, expect)), (
            f"{case_id(op, kind)}: the doc says {outcome} / {requests}; {REGENERATE}"
        )
    assert ROUTE.keys() == OP_LABELS.keys()


def test_the_table_has_every_operation_and_fault_kind() -> None:
    text = DOC.read_text()
    header = next(line for line in text.splitlines() if line.startswith("| fault |"))
    assert all(label in header for label in OP_LABELS.values())
    for label in KIND_LABELS.values():
        assert f"\n| {label} |" in text, label
    assert "<!-- load:begin -->" in text and "<!-- load:end -->" in text
