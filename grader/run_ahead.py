"""The next submission's sandbox run, made while this one is judged.

A submission costs its sandbox worker some 7 ms of CPU (its process forked, its code run, its
calls made) and the grader some 5 ms (judging, diagnosis, the report and the page). Made one
after the other, each waits for the other, and one core idles half the time. So a grading
process (or a batch of one job) asks for its next submission's run on a thread of its own,
:class:`RunAhead`, as soon as it knows which submission comes next, and judges the one it
holds meanwhile: the sandbox works on another core while the grader judges, and the thread,
waiting on the worker's pipes, holds the GIL only to read what comes back.

One thread, so that the runs happen in the order asked, one at a time, on the one worker of
the process; it lives as long as the pool of the workers it may start (a worker dies with the
thread that started it), and on an interrupt it is waited for after the pool is closed, so that
a worker it was starting is stopped and cleaned up by it, not left half made.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class RunAhead(Generic[T]):
    """``prepare(item)`` made on one thread of its own, ahead of when its result is taken."""

    def __init__(self, prepare: Callable[[int], T]) -> None:
        self._prepare = prepare
        self._asked: dict[int, Future[T]] = {}
        self._todo: queue.SimpleQueue[tuple[int, Future[T]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="run-ahead", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (asked := self._todo.get()) is not None:
            item, future = asked
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._prepare(item))
            except BaseException as exc:  # noqa: BLE001 - raised where it is taken
                future.set_exception(exc)

    def want(self, item: int) -> None:
        """Start preparing ``item`` (after those asked before), unless it is asked already."""
        if item not in self._asked:
            future: Future[T] = Future()
            self._asked[item] = future
            self._todo.put((item, future))

    def take(self, item: int) -> T:
        """What ``prepare(item)`` returned (or raised), waiting for it (asked now if it was not)."""
        self.want(item)
        return self._asked.pop(item).result()

    def stop(self) -> None:
        """Prepare nothing more: what was asked and not begun is cancelled; a run under way goes on (until
        the pool it runs on is closed, which ends it at once)."""
        for future in self._asked.values():
            future.cancel()
        self._asked.clear()
        self._todo.put(None)

    def join(self, timeout_s: float | None = None) -> None:
        """Wait for the thread to end (at most ``timeout_s``)."""
        self._thread.join(timeout_s)
