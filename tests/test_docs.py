"""The docs site: every page is in the nav, and the examples the docs mark runnable run.

A page marks an example with an HTML comment (the site does not show it) on the line right
before the opening fence of a ```python block:

    <!-- runnable -->           a whole program, run with ``python`` in a fresh temporary
                                directory against its own emulator (served from a thread of
                                this process): ``NEMO_API_URL`` points at it,
                                ``XDG_CONFIG_HOME`` and ``HOME`` at temporary directories;
    <!-- runnable: pytest -->   a test module, run with ``python -m pytest`` as pasted (the
                                plugin's fixtures start their own emulator).

Examples are written for the real service and keep its settings (a render is polled every
10 s), so a program runs after a small prelude that changes two defaults, never the code:
clients built without explicit waits get the millisecond waits of ``nemo_sdk.testing``,
and exports without an explicit size are rendered at 160x90 instead of the 1080p canvas.
Everything else runs as a reader would paste it. The examples run a few at a time: they
wait on renders more than they compute.

CI builds the site itself (``make docs``: ``mkdocs build --strict``), not this test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"

MARKER = re.compile(r"^<!--\s*runnable(?::\s*(?P<kind>[a-z]+))?\s*-->\s*$")
FENCE_OPEN = re.compile(r"^```python\b")
KINDS = ("script", "pytest")

PRELUDE = textwrap.dedent(
    """
    # Imported before a docs example runs (tests/test_docs.py): faster defaults, same code.
    from nemo_sdk.config import ChatSettings, ClientConfig, RetrySettings
    from nemo_sdk.resources.renders import Renders

    FAST = {
        "render_poll_interval": 0.02,
        "retry": RetrySettings(rate_limit_wait=0.01, backoff_initial=0.001, backoff_max=0.01),
        "chat": ChatSettings(drop_wait=0.01, poll_interval=0.01),
    }
    SMALL = {"width": 160, "height": 90, "fps": 12}
    resolve, export = ClientConfig.resolve.__func__, Renders.export


    def fast_resolve(cls, **kwargs):
        kwargs.update({k: v for k, v in FAST.items() if kwargs.get(k) is None})
        return resolve(cls, **kwargs)


    async def small_export(self, session_id, draft=None, **kwargs):
        kwargs.update({k: v for k, v in SMALL.items() if kwargs.get(k) is None})
        return await export(self, session_id, draft, **kwargs)


    ClientConfig.resolve = classmethod(fast_resolve)
    Renders.export = small_export
    """
)

EMULATOR_KNOBS: dict[str, Any] = {
    "starting_credits": 10_000,
    "render_seconds": 0.05,
    "clip_seconds": 1,
    "clip_width": 160,
    "clip_height": 90,
    "clip_fps": 12,
}


# ---------------------------------------------------------------- the nav


def _nav_pages(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _nav_pages(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _nav_pages(value)


def _nav() -> list[str]:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))
    return [page for page in _nav_pages(config["nav"]) if not page.startswith(("http:", "https:"))]


def test_every_nav_page_exists() -> None:
    missing = [page for page in _nav() if not (DOCS / page).is_file()]
    assert not missing, f"in the mkdocs.yml nav but not in docs/: {missing}"


def test_every_page_is_in_the_nav() -> None:
    nav = set(_nav())
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert not pages - nav, f"pages missing from the mkdocs.yml nav: {sorted(pages - nav)}"
    assert len(_nav()) == len(nav), "a page appears twice in the nav"


# ---------------------------------------------------------------- runnable examples


def runnable_blocks(text: str) -> list[tuple[str, int, str]]:
    """``(kind, line number, code)`` of each marked ```python block of a page."""
    lines = text.splitlines()
    blocks: list[tuple[str, int, str]] = []
    for index, line in enumerate(lines):
        marker = MARKER.match(line.strip())
        if marker is None:
            continue
        kind = marker.group("kind") or "script"
        assert kind in KINDS, f"line {index + 1}: unknown runnable kind {kind!r}"
        start = index + 1
        assert start < len(lines) and FENCE_OPEN.match(lines[start]), (
            f"line {index + 1}: a runnable marker must sit right above a ```python fence"
        )
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
        blocks.append((kind, start + 1, "\n".join(lines[start + 1 : end]) + "\n"))
    return blocks


EXAMPLES = [
    pytest.param(page, kind, code, id=f"{page.relative_to(DOCS).as_posix()}:{line}")
    for page in sorted(DOCS.rglob("*.md"))
    for kind, line, code in runnable_blocks(page.read_text(encoding="utf-8"))
]


def test_the_pages_that_promise_runnable_examples_have_them() -> None:
    pages = {param.values[0].relative_to(DOCS).as_posix() for param in EXAMPLES}
    assert {"quickstart.md", "testing.md", "recipes/task-queue.md"} <= pages


def _env(tmp: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEMO_", "PYTEST_", "SKILL_SOURCE"))
    }
    env.update(
        HOME=str(tmp / "home"),
        XDG_CONFIG_HOME=str(tmp / "xdg"),
        PYTHONPATH=str(tmp / "prelude"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


# A script runs as pasted, after the prelude; its emulator runs in this process.
SCRIPT_RUNNER = "import runpy, _docs_prelude; runpy.run_path('example.py', run_name='__main__')"


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def run_example(kind: str, code: str, tmp: Path) -> tuple[int, str]:
    """Run one example in a fresh interpreter; ``(exit code, output)``."""
    from nemo_sdk.emulator.threaded import emulator_in_thread

    (tmp / "prelude").mkdir(parents=True)
    (tmp / "prelude" / "_docs_prelude.py").write_text(PRELUDE, encoding="utf-8")
    work = tmp / "work"
    work.mkdir()
    if kind == "pytest":
        (work / "test_docs_example.py").write_text(code, encoding="utf-8")
        # No prelude: the plugin's fixtures and the module's own settings are the point.
        command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
        done = _run(command, work, _env(tmp))
    else:
        (work / "example.py").write_text(code, encoding="utf-8")
        with emulator_in_thread(**EMULATOR_KNOBS) as emu:
            env = _env(tmp) | {"NEMO_API_URL": emu.url}
            done = _run([sys.executable, "-c", SCRIPT_RUNNER], work, env)
    output = done.stdout + done.stderr
    if kind == "pytest" and done.returncode == 0 and "skipped" in done.stdout:
        return 1, "an example test was skipped:\n" + output
    return done.returncode, output


@pytest.fixture(scope="module")
def example_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[tuple[int, str]]]]:
    """Every selected example, submitted to a small pool when the first one is asked for.

    The examples wait on renders and downloads more than they compute: run one after
    the other they would take about twice as long.
    """
    pytest.importorskip("av", reason="the examples run against the emulator (emulator extra)")
    selected = [
        item.callspec
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_docs_example_runs"
    ]
    with ThreadPoolExecutor(max_workers=max(2, min(6, 2 * (os.cpu_count() or 1)))) as pool:
        runs = {
            spec.id: pool.submit(
                run_example,
                spec.params["kind"],
                spec.params["code"],
                tmp_path_factory.mktemp("docs-example"),
            )
            for spec in selected
        }
        yield runs
        for future in runs.values():
            future.cancel()


@pytest.mark.parametrize(("page", "kind", "code"), EXAMPLES)
def test_docs_example_runs(
    page: Path,
    kind: str,
    code: str,
    request: pytest.FixtureRequest,
    example_runs: dict[str, Future[tuple[int, str]]],
) -> None:
    returncode, output = example_runs[request.node.callspec.id].result(timeout=180)
    assert returncode == 0, output
