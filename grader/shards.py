"""Grading processes: a batch spread over forked copies of the grader, so that judging uses every core.

Grading one submission on the grader's side (reading it, its sandbox run, judging, diagnosis,
writing its report) is Python, under one GIL: in one process the batch would go no faster
than one core can judge, however many sandbox workers ran. So ``grade -j N`` forks N
*grading processes* once the batch's fixed part (the plan, the reference answers) is ready.
Each has its own sandbox worker and grades the submissions it is handed, one at a time,
and says what it wrote. They are the grader's own processes, trusted like it: the student's
code still runs only in the sandbox, whose results reach them as plain numbers. Messages
are JSON, each behind its length.

A grading process that dies (a bug, the kernel's OOM killer) costs the submissions it held:
they are reported as such, and a new process takes its place. Ctrl-C or SIGTERM reaches
the parent, which stops them all (SIGTERM, then SIGKILL); each stops its sandbox worker on
its way out, and dies with the parent should the parent itself be killed.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from collections import deque
from contextlib import AbstractContextManager, contextmanager
from typing import Callable, Iterator

from grader.errors import GraderError

Work = Callable[[int, "int | None"], dict]  # (item, the item after it if already here) -> what to send back (JSON-able)
_LENGTH = struct.Struct("!Q")
PREFETCH = 3  # items handed to each process ahead: none waits for the next, and each knows the one after the
# item it grades (whose sandbox run it starts meanwhile: grader.run_ahead)
HELP_AFTER = 40  # items of a kind waiting for their owner before another process, out of other items, helps
# (starting the worker they need, about 0.4 s, takes as long as grading some 40 of them)
STOP_S = 15.0  # how long a process is given to stop its worker after SIGTERM (which takes up to 10 s), before SIGKILL
PR_SET_PDEATHSIG = 1
_STOPPING = (signal.SIGINT, signal.SIGTERM)


class _Process:
    """One grading process, as the parent sees it."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid, self.sock = pid, sock
        self.held: list[int] = []  # items sent, not yet answered
        self.since = time.monotonic()  # its last answer (or first item)


class _Todo:
    """The items not handed out yet. Those of a kind (the submissions that import SciPy, say, which need a
    sandbox worker of their own, slow to start) go to the kind's *owners* ahead of their other items: at
    first the one process that asked first, so that only it starts that worker. Another process takes them
    only once nothing else is left and more than HELP_AFTER of them wait; it is then an owner too (its
    worker started, it goes on with them to the end). A kind whose owners are all gone goes to whichever
    process asks next.
    """

    def __init__(self, items: list[int], kinds: dict[int, str]) -> None:
        self.plain: deque[int] = deque(i for i in items if not kinds.get(i))
        self.kinds: dict[str, deque[int]] = {}
        for item in items:
            if kinds.get(item):
                self.kinds.setdefault(kinds[item], deque()).append(item)
        self.kind_of = kinds
        self.owners: dict[str, set[_Process]] = {kind: set() for kind in self.kinds}

    def __bool__(self) -> bool:
        return bool(self.plain) or any(self.kinds.values())

    def take(self, process: _Process) -> int | None:
        """The next item for ``process``, or None when none is for it now."""
        for kind, waiting in self.kinds.items():
            owners = self.owners[kind]
            if waiting and (process in owners or not owners):
                owners.add(process)
                return waiting.popleft()
        if self.plain:
            return self.plain.popleft()
        for kind, waiting in self.kinds.items():
            if len(waiting) > HELP_AFTER:
                self.owners[kind].add(process)
                return waiting.popleft()
        return None

    def give_back(self, item: int) -> None:
        """An item taken that could not be handed: first again."""
        kind = self.kind_of.get(item)
        (self.kinds[kind] if kind else self.plain).appendleft(item)

    def disown(self, process: _Process) -> None:
        """``process`` is gone: it owns no kind any more."""
        for owners in self.owners.values():
            owners.discard(process)

    def drain(self) -> Iterator[int]:
        while self.plain:
            yield self.plain.popleft()
        for waiting in self.kinds.values():
            while waiting:
                yield waiting.popleft()


class Shards:
    """``count`` forked grading processes; ``map`` hands them items and yields their answers.

    ``start`` runs in each new process: a context manager that yields the function grading one
    item there (it opens that process's sandbox worker, and closes it on the way out).
    """

    def __init__(self, count: int, start: Callable[[], AbstractContextManager[Work]],
                 patience_s: float = 600.0, before_fork: Callable[[], None] = lambda: None,
                 after_fork: Callable[[], None] = lambda: None) -> None:
        """``patience_s``: how long a process may hold items without answering before it is taken for stuck;
        ``before_fork``: called before each process is forked (to finish what the parent's threads are doing);
        ``after_fork``: called in the parent after each fork (and after a fork that failed)."""
        self.start, self.before_fork, self.after_fork = start, before_fork, after_fork
        self.patience_s = patience_s
        self.count = max(1, count)
        self.processes: list[_Process] = []
        self.hung_up = False  # every process told that no more items come: they wind down, unstopped
        self.restarts_left = 2 * self.count
        self.parent = os.getpid()
        self.selector = selectors.DefaultSelector()  # a process's socket, registered when it is forked

    def spawn(self, wanted: int) -> None:
        """Fork up to ``wanted`` processes (``count`` at most) now, before the caller starts a thread of its own
        (a progress bar's): a fork copies only the thread that made it, and whatever lock another one held.

        ``map`` forks those still missing; GraderError when none can start.
        """
        while len(self.processes) < min(self.count, wanted):
            try:
                self._spawn(self.selector)
            except OSError as exc:  # no more processes, or no memory: go on with those there are
                if not self.processes:
                    raise GraderError(f"cannot start a grading process ({exc})") from None
                return

    def map(self, items: list[int], kinds: dict[int, str] | None = None) -> Iterator[dict]:
        """Each item's answer, in the order they finish; an item whose process died gets ``{"i", "lost"}``.

        ``kinds``: an item's kind, when not plain: the items of a kind go to its owners first (see ``_Todo``).
        """
        todo = _Todo(items, kinds or {})
        selector = self.selector
        self.spawn(len(items))
        for process in list(self.processes):
            self._feed(process, todo)
        while any(p.held for p in self.processes) or (todo and self.processes):
            for key, _ in selector.select(timeout=min(self.patience_s, 5.0)):
                process = key.data
                try:
                    answer = _read(process.sock)
                except (OSError, ValueError) as exc:
                    yield from self._lost(process, selector, todo, str(exc) or type(exc).__name__)
                    continue
                if answer.get("i") in process.held:
                    process.held.remove(answer["i"])
                process.since = time.monotonic()
                yield answer
                self._feed(process, todo)
            for process in list(self.processes):
                if process.held and time.monotonic() - process.since > self.patience_s:  # stuck (a bug)
                    yield from self._lost(process, selector, todo, f"no answer in {self.patience_s:.0f} s",
                                          stop=signal.SIGTERM)  # its own worker stopped on its way out
                elif not process.held and todo:
                    self._feed(process, todo)

    def _feed(self, process: _Process, todo: _Todo) -> None:
        while len(process.held) < PREFETCH and (item := todo.take(process)) is not None:
            try:
                _write(process.sock, {"i": item})
            except OSError:  # it died after its last answer: the item waits for another; its end is read next
                todo.give_back(item)
                return
            if not process.held:  # patience counts from its oldest unanswered item
                process.since = time.monotonic()
            process.held.append(item)

    def _lost(self, process: _Process, selector, todo: _Todo, why: str,
              stop: signal.Signals = signal.SIGKILL) -> Iterator[dict]:
        """A process died (or is stopped with ``stop``): its items are lost; another takes its place."""
        selector.unregister(process.sock)
        process.sock.close()
        self.processes.remove(process)
        todo.disown(process)
        _reap(process.pid, stop)  # not reaped before: its pid cannot have been reused
        held, process.held = process.held, []
        for item in held:
            yield {"i": item, "lost": f"a grading process stopped ({why})"}
        if todo and self.restarts_left > 0:
            self.restarts_left -= 1
            try:
                self._feed(self._spawn(selector), todo)
            except OSError as exc:
                why = f"{why}; no new one could start: {exc}"
        if todo and not self.processes:  # they keep dying: the rest cannot be graded this run
            for item in todo.drain():
                yield {"i": item, "lost": f"the grading processes kept stopping ({why})"}

    def _spawn(self, selector) -> _Process:
        self.before_fork()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with _signals_deferred():  # Ctrl-C and SIGTERM wait until the parent knows the child, to stop it
            try:
                pid = os.fork()
            except OSError:
                parent.close()
                child.close()
                self.after_fork()
                raise
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                try:
                    parent.close()
                    for other in self.processes:
                        other.sock.close()
                    _serve(child, self.start, self.parent)
                finally:
                    os._exit(1)
            child.close()
            self.after_fork()
            process = _Process(pid, parent)
            self.processes.append(process)
            selector.register(parent, selectors.EVENT_READ, process)
        return process

    def hang_up(self) -> None:
        """Tell every process that no more items come: each then stops its worker and exits, unwaited for."""
        self.hung_up = True
        for process in self.processes:
            process.sock.close()

    def close(self, interrupted: bool = False) -> None:
        """Let every process finish and exit (hang up), and reap them; when ``interrupted``, stop them at once
        (unless they were hung up already: they are then stopping their workers, not to be cut short)."""
        if interrupted and not self.hung_up:
            for process in self.processes:
                try:
                    os.kill(process.pid, signal.SIGTERM)
                except OSError:
                    pass
        self.hang_up()
        for process in self.processes:
            _reap(process.pid, None)
        self.processes.clear()
        self.selector.close()

    def __enter__(self) -> "Shards":
        return self

    def __exit__(self, kind, *exc: object) -> None:
        self.close(interrupted=kind is not None)


def _reap(pid: int, first: signal.Signals | None) -> None:
    """Wait for a grading process to end; SIGKILL it if it takes longer than STOP_S."""
    if first is not None:
        try:
            os.kill(pid, first)
        except OSError:
            pass
    deadline = time.monotonic() + STOP_S
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.005)


def _serve(sock: socket.socket, start: Callable[[], AbstractContextManager[Work]], parent: int) -> None:
    """The grading process: grade each item received until the parent hangs up or stops it."""
    code = 0
    try:
        signal.signal(signal.SIGINT, _ignore)  # Ctrl-C is the parent's to handle (SIG_IGN would pass to the sandbox)
        signal.signal(signal.SIGTERM, _stop)
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__  # not the parent's progress bar, if it has one
        _die_with_parent(parent)
        with start() as work:
            held: deque[int] = deque()  # items received, not yet answered: the one to grade, and the one after it
            while True:
                try:
                    while not held or (len(held) < 2 and _waiting(sock)):
                        held.append(int(_read(sock)["i"]))
                except ValueError:  # the parent hung up: stopping the workers, which no SIGTERM may cut short now
                    signal.signal(signal.SIGTERM, _ignore)  # (the parent's SIGKILL comes after STOP_S)
                    break
                item = held.popleft()
                try:
                    answer = work(item, held[0] if held else None)
                except Exception as exc:  # noqa: BLE001 - a bug, or the disk full: the parent says so for this one
                    answer = {"i": item, "lost": f"{type(exc).__name__}: {str(exc)[:300]}"}
                _write(sock, answer)
    except BaseException:  # noqa: BLE001 - stopped, or a bug: the parent reports the items held
        code = 1
    finally:
        os._exit(code)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM recorded, not acted on, for a moment; then raised again, in order.

    Python runs its signal handlers in the main thread whichever thread the signal reached
    (a progress bar's, say), so masking the signals in this thread would not be enough.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for sig in _STOPPING:
        handler = signal.getsignal(sig)
        if handler is not None:  # None: set outside Python, and not to be replaced
            previous[sig] = signal.signal(sig, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


def _stop(signum, frame) -> None:
    """SIGTERM in a grading process: stop, once. Another SIGTERM (the parent's, after one sent to the whole
    process group, as ``timeout`` and job runners send it) must not cut short the stopping of its workers."""
    signal.signal(signal.SIGTERM, _ignore)
    raise SystemExit(1)


def _ignore(signum, frame) -> None:
    pass


def _die_with_parent(parent: int) -> None:
    """SIGTERM this process when the parent dies, however it dies (and stop now if it already has)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        raise SystemExit(1)


def _waiting(sock: socket.socket) -> bool:
    """Whether something (a message, or the parent's hanging up) is there to read now."""
    return bool(select.select([sock], [], [], 0)[0])


def _write(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    sock.sendall(_LENGTH.pack(len(data)) + data)


def _read(sock: socket.socket) -> dict:
    """One message; ValueError when the other side hung up."""
    length = _LENGTH.unpack(_exactly(sock, _LENGTH.size))[0]
    return json.loads(_exactly(sock, length))


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ValueError("hung up")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
