"""The forked grading processes on their own (grader/shards.py), with work functions of the test's."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from contextlib import contextmanager

import pytest

from grader.shards import Shards, _signals_deferred


def _starting(work):
    @contextmanager
    def start():
        yield work
    return start


def _square(item: int) -> dict:
    return {"i": item, "square": item * item, "pid": os.getpid()}


def test_every_item_is_answered_once_by_forked_processes():
    with Shards(3, _starting(_square)) as shards:
        answers = list(shards.map(list(range(40))))
    assert sorted(a["i"] for a in answers) == list(range(40))
    assert all(a["square"] == a["i"] ** 2 for a in answers)
    pids = {a["pid"] for a in answers}
    assert len(pids) >= 2 and os.getpid() not in pids  # graded elsewhere than here


def test_an_item_that_raises_is_lost_alone_and_its_process_goes_on():
    def work(item: int) -> dict:
        if item == 5:
            raise OSError(28, "No space left on device")
        return _square(item)

    with Shards(2, _starting(work)) as shards:
        answers = {a["i"]: a for a in shards.map(list(range(12)))}
        assert shards.restarts_left == 4  # no process had to be replaced
    assert "No space left" in answers[5]["lost"]
    assert all("lost" not in a for i, a in answers.items() if i != 5) and len(answers) == 12


def test_a_stuck_process_is_stopped_after_its_patience_and_the_batch_goes_on():
    def work(item: int) -> dict:
        if item == 3:
            time.sleep(3600)  # a bug that never returns
        return _square(item)

    started = time.monotonic()
    with Shards(2, _starting(work), patience_s=1.0) as shards:
        answers = {a["i"]: a for a in shards.map(list(range(10)))}
    assert time.monotonic() - started < 30
    assert sorted(answers) == list(range(10))
    assert "no answer in 1 s" in answers[3]["lost"]
    lost = [i for i, a in answers.items() if "lost" in a]
    assert len(lost) <= 2 and all(answers[i]["square"] == i * i for i in answers if i not in lost)


def test_processes_that_keep_dying_end_the_batch_with_every_item_said_lost():
    def work(item: int) -> dict:
        os._exit(3)

    with Shards(2, _starting(work)) as shards:
        answers = list(shards.map(list(range(20))))
    assert sorted(a["i"] for a in answers) == list(range(20)) and all("lost" in a for a in answers)


def test_ctrl_c_waits_while_signals_are_deferred_then_comes():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with _signals_deferred():
            signal.raise_signal(signal.SIGINT)
            reached.append("after the signal")  # not interrupted here
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is back


def test_before_fork_runs_before_every_fork_the_first_ones_and_each_replacement():
    calls = []

    def work(item: int) -> dict:
        if item == 0:
            os._exit(3)  # this process dies: a new one is forked in its place (items are left: it is needed)
        time.sleep(0.02)
        return _square(item)

    with Shards(2, _starting(work), before_fork=lambda: calls.append(time.monotonic())) as shards:
        answers = {a["i"]: a for a in shards.map(list(range(20)))}
        replaced = 4 - shards.restarts_left
    assert "lost" in answers[0] and sorted(answers) == list(range(20))
    assert replaced >= 1
    assert len(calls) == 2 + replaced  # one per process forked, replacements too


@pytest.mark.parametrize("then", ["goes_on", "fails"])
def test_hanging_up_lets_the_processes_wind_down_uncut_while_this_one_goes_on(then, tmp_path):
    marks, go = tmp_path / "marks", tmp_path / "go"
    marks.mkdir()

    def start():
        @contextmanager
        def serving():
            try:
                yield _square
            finally:  # what a grading process does on its way out: stop its worker (here: wait for "go", say so)
                try:
                    while not go.exists():
                        time.sleep(0.01)
                    (marks / str(os.getpid())).write_text("stopped")
                except SystemExit:  # SIGTERM
                    (marks / str(os.getpid())).write_text("cut short")
                    raise
        return serving()

    with pytest.raises(RuntimeError) if then == "fails" else contextlib.nullcontext():
        with Shards(2, start) as shards:
            pids = {a["pid"] for a in shards.map(list(range(6)))}
            shards.hang_up()
            assert not list(marks.iterdir())  # hanging up waits for nothing: they all wait for "go"
            go.write_text("")
            if then == "fails":  # writing the summaries failed, say: the processes are not stopped for it
                raise RuntimeError("the disk is full")
            waited = time.monotonic()
            while len(list(marks.iterdir())) < len(pids) and time.monotonic() - waited < 10:
                time.sleep(0.02)  # this process's own work goes on meanwhile
    assert {p.name: p.read_text() for p in marks.iterdir()} == {str(pid): "stopped" for pid in pids}
    for pid in pids:  # and closing reaped them all
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
