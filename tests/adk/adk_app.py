"""google-adk's own FastAPI server with a scripted model, served on 127.0.0.1.

The agent is ``nemo_agent``. Its model, :class:`ScriptedLlm`, reads the case from
the user's message (``case:<name>``, optionally ``seconds=<s>``) and plays that
case's script: no network, no API key. With ``stream=True`` its chunks go through
ADK's own ``StreamingResponseAggregator`` (as ADK's Gemini class does), so the
partial events and the aggregated final one are ADK's, not ours.

Only this module imports google-adk; it is imported by the tier's fixtures and the
capture script, never by the SDK.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import tempfile
import threading
import warnings
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from google.adk.agents import LlmAgent
from google.adk.cli.fast_api import get_fast_api_app
from google.adk.cli.utils.base_agent_loader import BaseAgentLoader
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.tools import FunctionTool
from google.adk.tools.tool_context import ToolContext
from google.adk.utils.streaming_utils import StreamingResponseAggregator
from google.genai import types

AGENT = "nemo_agent"
USER = "me"

# --- tools: real ADK FunctionTools ------------------------------------------------


async def generate_video(prompt: str) -> dict[str, Any]:
    """Generate a video clip from a prompt."""
    return {"status": "success", "url": "https://cdn.invalid/clip.mp4", "prompt": prompt}


async def add_bgm(name: str, volume: float) -> dict[str, Any]:
    """Add background music."""
    return {"status": "success", "track": "bgm", "name": name, "volume": volume}


async def render_preview(seconds: float) -> dict[str, Any]:
    """A silent tool: works ``seconds`` without a word on the stream."""
    await asyncio.sleep(seconds)
    return {"status": "success", "waited": seconds}


async def save_note(text: str, tool_context: ToolContext) -> dict[str, Any]:
    """Sets state, saves an artifact and skips the summary: an actions-heavy turn."""
    tool_context.state["note"] = text
    await tool_context.save_artifact("note.txt", types.Part.from_text(text=text))
    tool_context.actions.skip_summarization = True
    return {"status": "success"}


TOOLS = [generate_video, add_bgm, render_preview, save_note]

# --- the scripted model -------------------------------------------------------------


@dataclass
class Chunk:
    """One streamed chunk of a model turn."""

    parts: list[types.Part] = field(default_factory=list)
    finish: types.FinishReason | None = None
    finish_message: str | None = None
    role_only: bool = False  # ``content`` is ``{"role": "model"}``: no parts at all


def _text(text: str, thought: bool = False) -> types.Part:
    return types.Part(text=text, thought=True) if thought else types.Part.from_text(text=text)


def _call(tool: str, /, **args: Any) -> types.Part:
    return types.Part(function_call=types.FunctionCall(name=tool, args=args))


STOP = types.FinishReason.STOP


def script(case: str, step: int, seconds: float) -> list[Chunk] | Exception:
    """The chunks of model call ``step`` (0 = first) of ``case``."""
    done = [Chunk([_text("All done: ")]), Chunk([_text("your edit is in.")], STOP)]
    if case == "text":
        return [
            Chunk([_text("Hello! ")]),
            Chunk([_text("I can make ")]),
            Chunk([_text("videos.")], STOP),
        ]
    if case == "text_and_call":
        if step == 0:
            return [
                Chunk([_text("Sure, ")]),
                Chunk([_text("generating it now.")]),
                Chunk([_call("generate_video", prompt="a sunset")], STOP),
            ]
        return done
    if case == "tool_then_text":
        if step == 0:
            return [Chunk([_call("add_bgm", name="calm", volume=0.5)], STOP)]
        return done
    if case == "two_calls":
        if step == 0:
            return [
                Chunk([_call("generate_video", prompt="a beach")]),
                Chunk([_call("add_bgm", name="waves", volume=0.3)], STOP),
            ]
        return done
    if case == "silent_tool":
        if step == 0:
            return [Chunk([_call("render_preview", seconds=seconds)], STOP)]
        return done
    if case == "thought":
        return [
            Chunk([_text("Planning the shot list.", thought=True)]),
            Chunk([_text(" Then the music.", thought=True)]),
            Chunk([_text("Here is ")]),
            Chunk([_text("the plan.")], STOP),
        ]
    if case == "actions":
        if step == 0:
            return [Chunk([_call("save_note", text="calm mood")], STOP)]
        return done
    if case == "error_event":
        return [
            Chunk([_text("Let me ")]),
            Chunk([], types.FinishReason.SAFETY, "blocked by the safety filter"),
        ]
    if case == "role_only":
        return [Chunk([_text("Done.")]), Chunk([], STOP, role_only=True)]
    if case == "no_content":
        return [Chunk([_text("Thinking only.", thought=True)], STOP)]
    if case == "model_raises":
        return RuntimeError("model backend unavailable")
    if case == "raises_midway":
        return [Chunk([_text("Starting ")]), Chunk([_text("now, ")])]  # then raises
    raise ValueError(f"unknown case {case!r}")


_CASE = re.compile(r"case:(\w+)(?:\s+seconds=([0-9.]+))?")


def _case_of(request: LlmRequest) -> tuple[str, int, float]:
    """The case, how many tool results came back since its message, and its seconds."""
    step = 0
    for content in reversed(request.contents):
        for part in content.parts or []:
            if part.function_response is not None:
                step += 1
            if part.text and (m := _CASE.search(part.text)) and content.role == "user":
                return m.group(1), step, float(m.group(2) or 0.0)
    raise ValueError("no case:<name> in the conversation")


def _response(chunk: Chunk) -> types.GenerateContentResponse:
    return types.GenerateContentResponse(
        candidates=[
            types.Candidate(
                content=(
                    types.Content(role="model", parts=chunk.parts)
                    if chunk.parts
                    else types.Content(role="model")
                    if chunk.role_only
                    else None
                ),
                finish_reason=chunk.finish,
                finish_message=chunk.finish_message,
            )
        ]
    )


def _merged(chunks: list[Chunk]) -> Chunk:
    """One non-streamed answer: the chunks' parts with adjacent same-kind text joined.

    A turn that ends other than STOP (a blocked answer) comes back without content,
    as Gemini answers it.
    """
    last = chunks[-1]
    if last.finish not in (None, STOP):
        return Chunk([], last.finish, last.finish_message)
    parts: list[types.Part] = []
    for chunk in chunks:
        for part in chunk.parts:
            prev = parts[-1] if parts else None
            same_kind = prev is not None and bool(prev.thought) == bool(part.thought)
            if prev is not None and prev.text and part.text and same_kind:
                parts[-1] = _text(prev.text + part.text, bool(part.thought))
            else:
                parts.append(part)
    return Chunk(parts, last.finish, last.finish_message)


class ScriptedLlm(BaseLlm):
    """A deterministic model: each case's script, streamed through ADK's aggregator."""

    model: str = "scripted"

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        case, step, seconds = _case_of(llm_request)
        chunks = script(case, step, seconds)
        if isinstance(chunks, Exception):
            raise chunks
        if stream:
            aggregator = StreamingResponseAggregator()
            for chunk in chunks:
                async for response in aggregator.process_response(_response(chunk)):
                    yield response
            if case == "raises_midway":
                raise RuntimeError("model stream broke")
            if (final := aggregator.close()) is not None:
                yield final
            return
        if case == "raises_midway":
            raise RuntimeError("model stream broke")
        yield LlmResponse.create(_response(_merged(chunks)))


def make_agent() -> LlmAgent:
    return LlmAgent(
        name=AGENT,
        model=ScriptedLlm(),
        instruction="You make videos.",
        tools=[FunctionTool(t) for t in TOOLS],
    )


class _Loader(BaseAgentLoader):
    def __init__(self) -> None:
        self._agent = make_agent()

    def load_agent(self, agent_name: str) -> LlmAgent:
        if agent_name != AGENT:
            raise ValueError(f"no agent {agent_name!r}")
        return self._agent

    def list_agents(self) -> list[str]:
        return [AGENT]


def make_app(agents_dir: str) -> Any:
    """google-adk's own FastAPI app (``get_fast_api_app``) serving ``nemo_agent``."""
    return get_fast_api_app(
        agents_dir=agents_dir,
        agent_loader=_Loader(),
        session_service_uri="memory://",
        artifact_service_uri="memory://",
        memory_service_uri="memory://",
        use_local_storage=False,
        web=False,
        host="127.0.0.1",
        bind_host="127.0.0.1",
    )


@contextmanager
def serve() -> Iterator[str]:
    """Serve the app with uvicorn on 127.0.0.1, a free port, in a thread; yield its URL."""
    # ADK logs every failed turn with its traceback: the error cases fail on purpose.
    logging.getLogger("google_adk").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="nemo-adk-") as agents_dir:
        with warnings.catch_warnings():
            # ADK flags its in-memory credential service as experimental; not ours to fix.
            warnings.filterwarnings("ignore", r"\[EXPERIMENTAL\]", UserWarning)
            app = make_app(agents_dir)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="error", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError("the ADK server did not start")
                threading.Event().wait(0.01)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()


def warm_up(url: str) -> None:
    """One turn, so that the tests' first turn is as quick as the others."""
    import json
    import urllib.request

    sid = "warm-up"
    new = urllib.request.Request(
        f"{url}/apps/{AGENT}/users/{USER}/sessions",
        data=json.dumps({"session_id": sid}).encode(),
        method="POST",
    )
    new.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(new, timeout=30):
        pass
    body = {
        "app_name": AGENT,
        "user_id": USER,
        "session_id": sid,
        "new_message": {"role": "user", "parts": [{"text": "case:text"}]},
    }
    turn = urllib.request.Request(f"{url}/run_sse", data=json.dumps(body).encode())
    turn.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(turn, timeout=30) as answer:
        answer.read()
