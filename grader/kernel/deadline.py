"""A wall-clock limit on a call made in this process, by SIGALRM (the notebook's check has no sandbox to kill)."""

from __future__ import annotations

import signal
import threading


class CallTimedOut(BaseException):
    """Raised inside the student's call when its time is up (a BaseException, so ``except Exception`` lets it by)."""


class Deadline:
    """``with Deadline(5.0):`` raises CallTimedOut in the code inside after 5 s, and again every ``repeat`` s
    after that, so that one bare ``except:`` that swallows it does not end the limit.

    Inert where signals cannot be used (off the main thread, or on Windows): ``enforced`` says which.
    Code stuck in one long C call (a huge matrix product) is stopped only when it returns, and a loop
    that swallows every exception cannot be stopped in process at all (the sandbox kills it; here,
    only restarting the kernel).
    """

    def __init__(self, seconds: float, repeat: float = 0.5) -> None:
        self.seconds = seconds
        self.repeat = repeat
        self.enforced = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        self.expired = False
        self._active = False
        self._previous = None

    def __enter__(self) -> "Deadline":
        if self.enforced:
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            self._active = True
            signal.setitimer(signal.ITIMER_REAL, self.seconds, self.repeat)
        return self

    def _fire(self, signum, frame) -> None:
        if self._active:
            self.expired = True
            raise CallTimedOut()

    def __exit__(self, *exc) -> None:
        if not self.enforced:
            return
        self._active = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous if self._previous is not None else signal.SIG_DFL)
