"""One event loop in a daemon thread, and blocking calls into it from any other thread.

Why a thread of its own: aiohttp's connections belong to the loop that opened them, so
a client reused across two ``asyncio.run`` calls fails ("Event loop is closed"). One
loop that lives as long as the client keeps the connection pool, the token and the
journal usable from sync code, from as many threads as call it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from .. import errors

T = TypeVar("T")

__all__ = ["LoopThread"]


class LoopThread:
    """An event loop serving in a daemon thread until :meth:`close`.

    ``cancel_grace`` bounds how long an interrupted caller (Ctrl-C, a Celery time
    limit) waits for its cancelled call to finish its cleanup on the loop.
    """

    def __init__(self, *, name: str = "nemo-sdk-sync", cancel_grace: float = 10.0) -> None:
        self.cancel_grace = cancel_grace
        self._pid = os.getpid()
        self._lock = threading.Lock()  # orders submissions against closing
        self._closed = False
        self._final: Callable[[], Awaitable[None]] | None = None
        self._final_error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` began: no call is accepted any more."""
        return self._closed

    def in_loop_thread(self) -> bool:
        """True when the caller runs on this loop (a handler, a progress callback)."""
        return threading.get_ident() == self._thread.ident

    def run(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Run ``factory()``'s awaitable on the loop; block until it ends; return its result.

        Its exception is raised here, with its type. If the wait is interrupted (a
        ``KeyboardInterrupt``, a Celery ``SoftTimeLimitExceeded``...), the call is
        cancelled on the loop and given ``cancel_grace`` seconds to clean up before the
        interruption is raised on.
        """
        self._check_thread()
        call = _Call(factory)
        submitted = False
        try:
            with self._lock:  # an interrupt can land here too: the try covers it
                if self._closed:
                    raise errors.ClientClosedError("the sync client is closed")
                assert self._loop is not None
                submitted = True
                self._loop.call_soon_threadsafe(call.start)
            return call.future.result()
        except concurrent.futures.CancelledError:
            if self._closed:
                raise errors.ClientClosedError(
                    "the sync client was closed while this call ran (the call was cancelled)"
                ) from None
            raise
        except BaseException:
            # Interrupted (Ctrl-C, a Celery time limit), possibly before the submission
            # returned: the future exists before it, so the call is never lost unwatched.
            if submitted and call.future.cancel():
                self._settle(call)
            raise

    def _settle(self, call: _Call[T]) -> None:
        """Give a cancelled call ``cancel_grace`` seconds to run its own cleanup."""
        assert self._loop is not None
        try:
            # Loop callbacks run in order: if ``start`` was queued, it has run (and
            # started the task, or seen the cancel) before ``call.probe`` runs.
            self._loop.call_soon_threadsafe(call.probe)
        except RuntimeError:  # the loop is gone: nothing of the call can still run
            return
        call.finished.wait(self.cancel_grace)

    def close(self, final: Callable[[], Awaitable[None]] | None = None) -> None:
        """Cancel the calls still running, await ``final()`` on the loop, stop the thread.

        Idempotent; ``final``'s exception is raised here.
        """
        self._check_thread()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._final = final
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        if self._final_error is not None:
            error, self._final_error = self._final_error, None
            raise error

    def _check_thread(self) -> None:
        if os.getpid() != self._pid:
            # A forked child has a copy of the loop but not its thread: a call would
            # wait forever. Celery's prefork pool forks after importing the tasks.
            raise RuntimeError(
                "this sync NemoClient was made before the process forked, and its loop "
                "thread did not survive the fork: make the client in the child (in "
                "Celery: in a worker_process_init handler)"
            )
        if self.in_loop_thread():
            # Blocking the loop on itself would wait forever.
            raise RuntimeError(
                "a sync NemoClient was called from its own event loop thread (an event "
                "handler or progress callback?); there, use the async client "
                "(`nemo_sdk.NemoClient`) and `await` its methods"
            )

    def _main(self) -> None:
        # asyncio.run: when _serve returns, it also finalizes async generators and the
        # default executor, then closes the loop.
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        current = asyncio.current_task()
        running = [task for task in asyncio.all_tasks() if task is not current]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self._final is not None:
            try:
                await self._final()
            except BaseException as exc:  # handed to close()'s caller
                self._final_error = exc


class _Call(Generic[T]):
    """One blocking call: the caller's future, made before the loop ever sees the call."""

    def __init__(self, factory: Callable[[], Awaitable[T]]) -> None:
        self.factory = factory
        self.future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self.finished = threading.Event()  # the task's cleanup ended, or it never began
        self._task: asyncio.Task[T] | None = None

    def start(self) -> None:
        """On the loop: start the task, unless the caller cancelled first."""
        if self.future.cancelled():
            self.finished.set()
            return
        task = asyncio.get_running_loop().create_task(self._run())
        self._task = task
        task.add_done_callback(self._copy_outcome)
        loop = task.get_loop()
        self.future.add_done_callback(
            lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None
        )

    def probe(self) -> None:
        """On the loop, after ``start`` if it was queued: a call that never began is over."""
        if self._task is None:
            self.finished.set()

    async def _run(self) -> T:
        try:
            return await self.factory()
        finally:
            self.finished.set()

    def _copy_outcome(self, task: asyncio.Task[T]) -> None:
        try:
            if task.cancelled():
                self.future.cancel()
            elif (exc := task.exception()) is not None:
                self.future.set_exception(exc)
            else:
                self.future.set_result(task.result())
        except concurrent.futures.InvalidStateError:  # the caller cancelled it already
            pass
