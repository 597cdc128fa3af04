"""Sandbox workers started before a pool needs them.

Checking that the sandbox works means starting Python and NumPy inside it, which is just
what starting a worker does. So when the caller knows it will need workers (``grader check``,
``grader grade``), the check *is* their start: :func:`start` starts them all at once, and a
pool takes one with :func:`give` instead of starting its own. In a batch, the grading
processes are forked after that: each adopts one of the parent's spares
(:class:`Handover`), and the parent only reaps it at the end.

A spare has run no student code: it is a worker that has said "ready", nothing more.
"""

from __future__ import annotations

import atexit

from grader.sandbox.pool import Launcher, WorkerLost, WorkerPool, _Worker

_spares: list[_Worker] = []  # started, ready, not yet given to a pool
_handed: list[_Worker] = []  # given to a grading process (forked from this one): only reaped here


def start(launcher: Launcher, count: int) -> None:
    """Start ``count`` workers at once and wait until they are ready (the sandbox's check).

    Raises WorkerLost, keeping none, when none of them starts; those that do start are kept.
    """
    started: list[_Worker] = []
    try:
        for _ in range(max(1, count)):  # all from this thread: bwrap dies with the thread that started it
            started.append(_Worker(launcher, wait=False))
    except Exception:  # noqa: BLE001 - no sandbox command, no process: go on with those started, if any
        if not started:
            raise
    ready, failure = [], None
    try:
        for worker in started:
            try:
                worker.wait_ready()
                ready.append(worker)
            except WorkerLost as exc:
                failure = exc
    except BaseException:  # Ctrl-C while they start: none is left behind
        for worker in started:
            worker.kill()
        raise
    if not ready:
        raise failure or WorkerLost("the worker did not start")
    _spares.extend(ready)


def give(pool: WorkerPool) -> None:
    """Let ``pool`` (in this process) use a spare started with its launcher, if there is one."""
    for worker in _spares:
        if worker.launcher == pool.launcher:
            _spares.remove(worker)
            pool.adopt(worker)
            return


class Handover:
    """The parent's spares, one for each grading process it forks (``before_fork``, ``after_fork``, ``adopt``)."""

    def __init__(self) -> None:
        self.next: _Worker | None = None

    def before_fork(self) -> None:
        """In the parent: set aside the spare of the process about to be forked (None when none is left)."""
        self.next = _spares.pop(0) if _spares else None

    def after_fork(self) -> None:
        """In the parent, once forked: the spare is the new process's; this one keeps only what it needs to reap it.

        Its end of the spare's control socket is closed, so that the spare sees the grading process hang up
        (and exits) should that process die.
        """
        if self.next is not None:
            self.next.control.close()
            _handed.append(self.next)
            self.next = None

    def adopt(self, pool: WorkerPool) -> None:
        """In the forked grading process: take its spare; let go of the others' sockets (they are not its own)."""
        mine, self.next = self.next, None
        for other in _spares:
            other.control.close()
        _spares.clear()
        _handed.clear()
        if mine is not None:
            pool.adopt(mine)


def release() -> None:
    """Stop the spares no pool took, and reap those handed to grading processes (stopped by them by now)."""
    while _spares:
        _spares.pop().kill()
    while _handed:
        _handed.pop().kill()


atexit.register(release)
