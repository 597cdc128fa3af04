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
thread that started it).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class RunAhead(Generic[T]):
    """``prepare(item)`` made on one thread of its own, ahead of when its result is taken."""

    def __init__(self, prepare: Callable[[int], T]) -> None:
        self._prepare = prepare
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="run-ahead")
        self._asked: dict[int, Future[T]] = {}

    def want(self, item: int) -> None:
        """Start preparing ``item`` (after those asked before), unless it is asked already."""
        if item not in self._asked:
            self._asked[item] = self._thread.submit(self._prepare, item)

    def take(self, item: int) -> T:
        """What ``prepare(item)`` returned (or raised), waiting for it (asked now if it was not)."""
        self.want(item)
        return self._asked.pop(item).result()

    def close(self, wait: bool = True) -> None:
        """Prepare nothing more; wait for the thread to end, unless ``wait`` is False (on an interrupt: the pool,
        closed next, ends a run under way at once)."""
        self._thread.shutdown(wait=wait, cancel_futures=True)
        self._asked.clear()
