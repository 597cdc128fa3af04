"""The batch's progress: a rich bar on a terminal, plain lines elsewhere, and no thread of its own at a fork."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader import api
from tests.conftest import FIXTURES, ROOT, TEST_LIMITS

RIGHT = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()


def _class(folder: Path, count: int, broken: int = 0) -> Path:
    folder.mkdir()
    for i in range(count):
        (folder / f"s{i:02d}.py").write_text(RIGHT + f"\n# student {i}\n")
    for i in range(broken):
        (folder / f"broken{i}.py").write_text("def softmax(z)\n    return z\n")
    return folder


def _on_a_terminal(args: list[str], timeout_s: float = 240) -> tuple[int, str]:
    """Run the command with its stderr (rich's console) on a pseudo-terminal; its exit status and what it wrote there."""
    main, other = pty.openpty()
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=other, cwd=ROOT,
                                env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
    finally:
        os.close(other)
    said, deadline = bytearray(), time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(main, 1 << 16)
                except OSError:  # the other side closed: the command ended
                    break
                if not chunk:
                    break
                said += chunk
            elif proc.poll() is not None:
                break
        proc.stdout.read()
        return proc.wait(timeout=30), said.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)


def test_a_terminal_shows_a_bar_with_the_running_count_of_errors(tmp_path):
    folder = _class(tmp_path / "class", 6, broken=2)
    status, said = _on_a_terminal([sys.executable, "-m", "grader", "grade", str(folder), "-a", "softmax_gradients",
                                   "-o", str(tmp_path / "out"), "-j", "2"])
    assert status == 0, said
    assert "\x1b[" in said and "━" in said  # drawn with rich: terminal codes and the bar itself
    assert "2 could not be graded" in said and "8/8" in said
    assert "grading 8 submissions" not in said  # that is the plain line, for output that is not a terminal


def test_without_a_terminal_the_progress_is_plain_lines(tmp_path):
    folder = _class(tmp_path / "class", 3, broken=1)
    run = subprocess.run([sys.executable, "-m", "grader", "grade", str(folder), "-a", "softmax_gradients",
                          "-o", str(tmp_path / "out"), "-j", "2"], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert run.returncode == 0, run.stderr
    assert "grading 4 submissions" in run.stderr and "4/4 done: 1 could not be graded" in run.stderr
    assert "\x1b[" not in run.stderr and "━" not in run.stderr


def test_the_grading_processes_are_forked_before_the_progress_starts_its_thread(tmp_path, monkeypatch):
    """A fork copies only the thread that makes it: a progress bar's thread, holding the console's lock
    at that moment, would leave the lock held for good in the copy."""
    threads_at_fork: list[set[int]] = []
    real_fork = os.fork

    def fork() -> int:
        if os.getpid() == parent:
            threads_at_fork.append({t.ident for t in threading.enumerate()})
        return real_fork()

    parent = os.getpid()
    monkeypatch.setattr(os, "fork", fork)
    stop, bars = threading.Event(), []

    def on_start(count: int) -> None:  # like the terminal's bar: a thread that redraws until the end
        bar = threading.Thread(target=stop.wait, daemon=True)
        bar.start()
        bars.append(bar)

    folder = _class(tmp_path / "class", 4)
    try:
        result = api.grade([folder], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=2,
                           limits=TEST_LIMITS, on_start=on_start)
    finally:
        stop.set()
    assert result.statistics["graded"] == 4
    assert len(bars) == 1 and len(threads_at_fork) >= 2  # both grading processes forked here
    assert all(bars[0].ident not in idents for idents in threads_at_fork)


@pytest.mark.parametrize("jobs", [1, 2])
def test_on_start_is_told_the_size_of_the_batch_once(tmp_path, jobs):
    told: list[int] = []
    folder = _class(tmp_path / "class", 3)
    api.grade([folder], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=jobs, limits=TEST_LIMITS,
              on_start=told.append)
    assert told == [3]


def test_without_a_terminal_a_slow_batch_still_says_how_far_it_is(monkeypatch):
    """A line every PLAIN_EVERY submissions, or every PLAIN_EVERY_S seconds when they come slowly."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from grader.report import progress as progress_module

    now = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    written = io.StringIO()
    with progress_module.BatchProgress(Console(file=written, highlight=False)) as bar:
        bar.start(16)
        for status in ["graded", "error", "graded", "graded", "graded", "graded"]:  # slow ones: one every 4 s
            now[0] += 4.0
            bar.advance(SimpleNamespace(status=status), reused=False)
    lines = written.getvalue().splitlines()
    assert lines == ["grading 16 submissions",  # then a line at 12 s and at 24 s, not at 4, 8, 16 or 20
                     "3/16 done: 1 could not be graded, 0 up to date from an earlier run",
                     "6/16 done: 1 could not be graded, 0 up to date from an earlier run"]
