"""The docs: every page is in the nav, and every example of README.md and docs/ runs as printed.

Each ```python and ```sh block of README.md and docs/ carries an HTML comment (the site
does not show it) on the line right before its opening fence:

    <!-- runnable -->           a whole program, run with ``python`` as printed, in a fresh
                                directory with a fresh ``HOME`` and ``XDG_CONFIG_HOME``,
                                with ``NEMO_API_URL`` pointing at an emulator started as
                                the docs say: ``python -m nemo_sdk.emulator`` in its own
                                process (a developer's server), with small, quick renders
                                (``EMULATOR_KNOBS``), and ``NEMO_RENDER_POLL_INTERVAL``
                                set (a 50 ms poll, as under test);
    <!-- runnable: pytest -->   a test module, run with ``python -m pytest`` as pasted in a
                                fresh directory (no configuration: the plugin's fixtures
                                start their own emulator);
    <!-- runnable: sh -->       a shell session, run with ``bash -e`` in a fresh directory
                                (it starts what it needs itself; its process group is ended
                                afterwards);
    <!-- fragment -->           a piece of a program, not meant to run alone.

No prelude: what runs here is what a reader pastes. Only the server is the test's: the
script blocks' emulator renders a 160x90 canvas in 0.05 s at the least (the blocks check
the calls, not the picture), and their clients poll renders every 50 ms; an emulator a
block starts in its own process (``embedded_client()``, ``nemo --emulator``) paints 160x90
clips (``docs_site/sitecustomize.py``).
CI builds the site itself (``make docs``: ``mkdocs build --strict``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
MKDOCS_YML = ROOT / "mkdocs.yml"

MARKER = re.compile(
    r"^<!--\s*(?:runnable(?::\s*(?P<kind>[a-z]+))?|(?P<fragment>fragment))\s*-->\s*$"
)
FENCE_OPEN = re.compile(r"^```(?P<lang>python|sh|bash)\b")
KINDS = ("script", "pytest", "sh")
TIMEOUT = 150
SMALL_DEMO_SITE = Path(__file__).resolve().parent / "docs_site"
# The script blocks' emulator: exports of a 160x90 canvas (a prompt's "1080p" still sizes
# its own), clips of 160x90 at 12 fps, renders of 0.05 s at the least.
EMULATOR_KNOBS = {
    "canvas_width": 160,
    "canvas_height": 90,
    "clip_width": 160,
    "clip_height": 90,
    "render_seconds": 0.05,
}


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


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


def code_blocks(text: str) -> list[tuple[str | None, int, str]]:
    """``(kind, line number, code)`` of every ```python / ```sh block of a page.

    ``kind`` is the marker's (``script``, ``pytest``, ``sh``), ``fragment``, or ``None``
    when the block carries no marker.
    """
    lines = text.splitlines()
    blocks: list[tuple[str | None, int, str]] = []
    index = 0
    while index < len(lines):
        fence = FENCE_OPEN.match(lines[index])
        if fence is None:
            if lines[index].startswith("```"):  # another language: skip its body
                index = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
            index += 1
            continue
        kind: str | None = None
        marker = MARKER.match(lines[index - 1].strip()) if index else None
        if marker is not None:
            kind = "fragment" if marker.group("fragment") else (marker.group("kind") or "script")
            assert kind == "fragment" or kind in KINDS, f"line {index}: unknown kind {kind!r}"
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        blocks.append((kind, index + 1, "\n".join(lines[index + 1 : end]) + "\n"))
        index = end + 1
    return blocks


def runnable_blocks(text: str) -> list[tuple[str, int, str]]:
    """The blocks a page marks runnable."""
    return [(k, n, c) for k, n, c in code_blocks(text) if k is not None and k != "fragment"]


EXAMPLES = [
    pytest.param(_name(page), kind, code, id=f"{_name(page)}:{line}")
    for page in _pages()
    for kind, line, code in runnable_blocks(page.read_text(encoding="utf-8"))
]


def test_every_python_and_shell_block_says_whether_it_runs() -> None:
    unmarked = [
        f"{_name(page)}:{line}"
        for page in _pages()
        for kind, line, _ in code_blocks(page.read_text(encoding="utf-8"))
        if kind is None
    ]
    assert not unmarked, f"blocks without <!-- runnable... --> or <!-- fragment -->: {unmarked}"


def test_the_pages_that_promise_runnable_examples_have_them() -> None:
    pages = {param.values[0] for param in EXAMPLES}
    assert {
        "README.md",
        "docs/quickstart.md",
        "docs/testing.md",
        "docs/cli.md",
        "docs/recipes/task-queue.md",
    } <= pages


def test_the_marker_parser() -> None:
    page = "<!-- runnable -->\n```python\nprint(1)\n```\n```text\nx\n```\n```sh\nls\n```\n"
    assert code_blocks(page) == [("script", 2, "print(1)\n"), (None, 8, "ls\n")]


def _env(tmp: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("NEMO_", "PYTEST_", "SKILL_SOURCE"))
    }
    env.update(
        HOME=str(tmp / "home"),
        XDG_CONFIG_HOME=str(tmp / "xdg"),
        PYTHONDONTWRITEBYTECODE="1",
        # `python`, `pytest` and `nemo` are the ones of this environment, as after `pip install`.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        # An emulator a block starts in its own process paints small clips (its sitecustomize).
        PYTHONPATH=str(SMALL_DEMO_SITE),
    )
    return env


@pytest.fixture(scope="module")
def docs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m nemo_sdk.emulator`` on a port it picks (no race between workers); its URL."""
    pytest.importorskip("av", reason="the examples run against the emulator (emulator extra)")
    knobs = [arg for name, value in EMULATOR_KNOBS.items() for arg in ("--knob", f"{name}={value}")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "nemo_sdk.emulator", "--port", "0", *knobs],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path_factory.mktemp("docs-emulator"),
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("NemoVideo emulator: API"), first
    try:
        yield first.split()[3]  # "NemoVideo emulator: API <url>  CDN <url>"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_example(kind: str, code: str, tmp: Path, api_url: str) -> tuple[int, str]:
    """Run one example as printed in a fresh directory; ``(exit code, output)``."""
    work = tmp / "work"
    work.mkdir(parents=True)
    env = _env(tmp)
    if kind == "pytest":
        (work / "test_docs_example.py").write_text(code, encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    elif kind == "sh":
        (work / "example.sh").write_text(code, encoding="utf-8")
        command = ["bash", "-e", "example.sh"]
    else:
        (work / "example.py").write_text(code, encoding="utf-8")
        command = [sys.executable, "example.py"]
        env["NEMO_API_URL"] = api_url
        env["NEMO_RENDER_POLL_INTERVAL"] = "0.05"  # a fixed 50 ms poll, as under test
    with _fixed_port_lock(code):
        return _run(kind, command, work, env)


@contextlib.contextmanager
def _fixed_port_lock(code: str) -> Iterator[None]:
    """A block that serves on the docs' fixed port 8765 holds a machine-wide lock meanwhile.

    Two suites on one machine (a developer's and an agent's, or two worktrees) would
    otherwise start two emulators on that port, and one block would talk to the other's.
    """
    if "8765" not in code:
        yield
        return
    with open(Path(tempfile.gettempdir()) / "nemo-sdk-docs-port-8765.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _run(kind: str, command: list[str], work: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.Popen(
        command,
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a block's background jobs end with it (os.killpg below)
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        return 124, f"timed out after {TIMEOUT} s:\n{output}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # a script's background jobs ignore SIGINT
    if kind == "pytest" and proc.returncode == 0 and "skipped" in output:
        return 1, "an example test was skipped:\n" + output
    return proc.returncode, output


@pytest.fixture(scope="module")
def example_runs(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    docs_emulator: str,
) -> Iterator[dict[str, Future[tuple[int, str]]]]:
    """Every selected example, submitted to a small pool when the first one is asked for.

    The examples wait on renders and downloads more than they compute.
    """
    items = [
        item
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_docs_example_runs"
    ]
    if getattr(request.config.option, "loadgroup", False):  # an xdist worker, --dist loadgroup
        # Every worker that runs one of them would run them all (pytest-dev/pytest-xdist#1386).
        assert all(item.nodeid.endswith("@docs-examples") for item in items), (
            "xdist did not group the docs examples: see pyproject.toml's pytest pin"
        )
    selected = [item.callspec for item in items]
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {
            spec.id: pool.submit(
                run_example,
                spec.params["kind"],
                spec.params["code"],
                tmp_path_factory.mktemp("docs-example"),
                docs_emulator,
            )
            for spec in selected
        }
        yield runs
        for future in runs.values():
            future.cancel()


@pytest.mark.slow(seconds=40)  # the whole group: about 40 s on one worker, so it starts first
@pytest.mark.xdist_group("docs-examples")  # one example pool, one emulator
@pytest.mark.parametrize(("page", "kind", "code"), EXAMPLES)
def test_docs_example_runs(
    page: str,
    kind: str,
    code: str,
    request: pytest.FixtureRequest,
    example_runs: dict[str, Future[tuple[int, str]]],
) -> None:
    returncode, output = example_runs[request.node.callspec.id].result(timeout=4 * TIMEOUT)
    assert returncode == 0, output
