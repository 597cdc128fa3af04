"""The forked grading processes on their own (grader/shards.py), with work functions of the test's."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from contextlib import contextmanager

import pytest

from grader.shards import HELP_AFTER, PREFETCH, Shards, _signals_deferred, _Todo


def _starting(work):
    @contextmanager
    def start():
        yield work
    return start


def _square(item: int, coming: int | None = None) -> dict:
    return {"i": item, "square": item * item, "pid": os.getpid()}


def test_every_item_is_answered_once_by_forked_processes():
    with Shards(3, _starting(_square)) as shards:
        answers = list(shards.map(list(range(40))))
    assert sorted(a["i"] for a in answers) == list(range(40))
    assert all(a["square"] == a["i"] ** 2 for a in answers)
    pids = {a["pid"] for a in answers}
    assert len(pids) >= 2 and os.getpid() not in pids  # graded elsewhere than here


def test_an_item_that_raises_is_lost_alone_and_its_process_goes_on():
    def work(item: int, coming: int | None = None) -> dict:
        if item == 5:
            raise OSError(28, "No space left on device")
        return _square(item)

    with Shards(2, _starting(work)) as shards:
        answers = {a["i"]: a for a in shards.map(list(range(12)))}
        assert shards.restarts_left == 4  # no process had to be replaced
    assert "No space left" in answers[5]["lost"]
    assert all("lost" not in a for i, a in answers.items() if i != 5) and len(answers) == 12


def test_a_stuck_process_is_stopped_after_its_patience_and_the_batch_goes_on():
    def work(item: int, coming: int | None = None) -> dict:
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
    assert len(lost) <= PREFETCH and all(answers[i]["square"] == i * i for i in answers if i not in lost)


def test_each_item_comes_with_the_one_handed_after_it_when_that_one_is_there():
    def work(item: int, coming: int | None = None) -> dict:
        time.sleep(0.01)  # the parent has handed the next ones by now
        return {"i": item, "coming": coming}

    with Shards(1, _starting(work)) as shards:
        answers = list(shards.map(list(range(12))))
    assert [a["i"] for a in answers] == list(range(12))  # one process: in order, each answered once
    seen = [(a["i"], a["coming"]) for a in answers]
    # told of the next item, never of another; not of one after the last (it is the last)
    assert all(coming in (item + 1, None) for item, coming in seen) and seen[-1] == (11, None)
    assert sum(coming == item + 1 for item, coming in seen) >= 9


def test_processes_that_keep_dying_end_the_batch_with_every_item_said_lost():
    def work(item: int, coming: int | None = None) -> dict:
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

    def work(item: int, coming: int | None = None) -> dict:
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


def test_the_items_of_a_kind_go_to_their_owner_first_and_to_no_other_process_while_it_lives():
    a, b = object(), object()
    todo = _Todo(list(range(10)), {3: "scipy", 7: "scipy"})
    assert [todo.take(a), todo.take(b), todo.take(a), todo.take(b)] == [3, 0, 7, 1]  # a asked first: a owns them
    todo.give_back(7)  # a could not be handed it
    assert todo.take(b) == 2 and todo.take(a) == 7
    assert [todo.take(b) for _ in range(6)] == [4, 5, 6, 8, 9, None]
    assert not todo


def test_another_process_helps_with_a_kind_only_when_nothing_else_is_left_and_many_wait():
    a, b, c = object(), object(), object()
    kinds = {i: "scipy" for i in range(HELP_AFTER + 3)}
    todo = _Todo(list(range(HELP_AFTER + 4)), kinds)
    assert todo.take(a) == 0 and todo.take(b) == HELP_AFTER + 3  # the only plain item, to b
    assert todo.take(c) == 1  # HELP_AFTER + 2 wait: c helps
    assert todo.take(b) == 2  # HELP_AFTER + 1 wait: b too
    assert todo.take(a) == 3
    # HELP_AFTER - 1 wait: those that helped (their worker started) go on to the end, no other starts
    taken = {process: [] for process in (a, b, c)}
    while todo:
        for process in (a, b, c):
            item = todo.take(process)
            if item is not None:
                taken[process].append(item)
    assert len(taken[a]) == len(taken[b]) == len(taken[c]) == (HELP_AFTER - 1) // 3
    assert todo.take(object()) is None


def test_a_kind_whose_owner_is_gone_goes_to_whichever_process_asks_next():
    a, b = object(), object()
    todo = _Todo([0, 1, 2], {0: "scipy", 1: "scipy"})
    assert todo.take(a) == 0 and todo.take(b) == 2 and todo.take(b) is None
    todo.disown(a)
    assert todo.take(b) == 1 and not todo
    assert list(_Todo([0, 1, 2], {1: "scipy"}).drain()) == [0, 2, 1]


def test_every_item_of_a_kind_is_answered_by_one_process():
    kinds = {i: "scipy" for i in (1, 4, 9, 20)}
    with Shards(2, _starting(_square)) as shards:
        answers = {a["i"]: a for a in shards.map(list(range(30)), kinds)}
    assert sorted(answers) == list(range(30))
    assert len({answers[i]["pid"] for i in kinds}) == 1


def test_a_second_sigterm_does_not_cut_short_a_grading_process_that_is_stopping(tmp_path):
    """``timeout`` and job runners send SIGTERM to the whole process group: a grading process gets one from
    them, then one from the grader. Stopping its sandbox workers (and removing their folders) must finish."""
    marker, ready = tmp_path / "stopped", tmp_path / "ready"

    @contextmanager
    def start():  # called once the grading process handles SIGTERM
        try:
            ready.touch()
            yield _square
        finally:
            time.sleep(1.0)  # as long as stopping its workers may take
            marker.write_text("whole")

    with Shards(1, start) as shards:
        shards.spawn(1)
        pid = shards.processes[0].pid
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.3)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1  # stopped, not killed by the signal
    assert marker.read_text() == "whole"
