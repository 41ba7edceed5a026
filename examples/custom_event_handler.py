"""Extend the SDK with your own event handler: stream the agent's words, count its tools.

python examples/custom_event_handler.py --emulator
"""

from __future__ import annotations

import argparse
import asyncio

from nemo_sdk import ChatReply, EventHandler, NemoClient, Progress, ToolCall
from nemo_sdk.offline import embedded_client


class ConsoleHandler(EventHandler):
    """Prints the reply as it streams; keeps the tool calls for a summary."""

    def __init__(self) -> None:
        self.tools: list[str] = []

    async def on_reply_text(self, text: str) -> None:
        print(text, end="", flush=True)  # new text only, once, in any streaming mode

    async def on_tool_call(self, event: ToolCall) -> None:
        self.tools.append(event.name)

    async def on_still_working(self, elapsed_seconds: float) -> None:
        print(f"\n⏳ still working ({elapsed_seconds:.0f} s)...")

    async def on_end(self, reply: ChatReply) -> None:
        print()
        if not reply.text and reply.summary:  # about 30% of edits say nothing
            print(f"✅ {reply.summary}")

    async def on_progress(self, progress: Progress) -> None:
        if progress.phase in ("rendering", "downloading") and progress.percent == 0:
            print(f"[{progress.phase}]")


async def main(use_emulator: bool) -> None:
    handler = ConsoleHandler()
    async with embedded_client(quiet=True) if use_emulator else NemoClient() as nemo:
        result = await nemo.generate_and_export(
            "a paper boat on a rainy street", "boat.mp4", handler=handler, overwrite=True
        )
        reply = await nemo.chat.send(result.session_id, "add BGM at 35%", handler=handler)
        for suggestion in reply.suggested_actions:
            print(f"the agent suggests: {suggestion.action.value} ({suggestion.phrase!r})")
    print(f"tools the agent used: {', '.join(handler.tools)}")
    print(f"done: {result.path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulator", action="store_true", help="run against the embedded emulator")
    asyncio.run(main(parser.parse_args().emulator))
