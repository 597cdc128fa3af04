"""Batches that are rerun, forced, or interrupted: whole reports only, no stray processes, resumable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from pathlib import Path

import pytest

from grader.report.model import Report
from grader.sandbox import cgroups
from tests.cli.test_cli import BASE, MISTAKE, grader
from tests.conftest import ROOT

SLOW = BASE + "\n\nimport time\n_right = softmax_backward\n\ndef softmax_backward(y, g):\n    time.sleep(0.2)\n    return _right(y, g)\n"


def _batch(folder, n, text=BASE):
    folder.mkdir()
    for i in range(n):
        (folder / f"s{i:02d}.py").write_text(f"# {i}\n" + text)
    return folder


def test_a_rerun_skips_up_to_date_reports_and_force_regrades(tmp_path):
    subs, out = _batch(tmp_path / "subs", 3), tmp_path / "out"
    assert grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("s[0-9]*.json")}
    for page in ("s00.html", "s01.html"):  # marked, to tell a page built again from one left as it was
        (out / page).write_text((out / page).read_text() + "<!-- from the first run -->")
    (subs / "s01.py").write_text(BASE + MISTAKE)  # one student resubmits
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0 and "2 up to date" in run.stderr
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("s[0-9]*.json")}
    assert after["s00.json"] == stamps["s00.json"] and after["s02.json"] == stamps["s02.json"]
    assert after["s01.json"] != stamps["s01.json"]
    assert Report.model_validate_json((out / "s01.json").read_text()).score == 80
    assert "from the first run" in (out / "s00.html").read_text()  # its report was reused: so was its page
    assert "from the first run" not in (out / "s01.html").read_text() and "80" in (out / "s01.html").read_text()
    assert json.loads((out / "summary.json").read_text())["score"]["mean"] == round((100 + 80 + 100) / 3, 4)
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out), "--force")
    assert "0 up to date" in run.stderr
    assert all(p.stat().st_mtime_ns != after[p.name] for p in out.glob("s[0-9]*.json"))
    assert "from the first run" not in (out / "s00.html").read_text()


def _marked(mark: str) -> list[str]:
    """Processes still running with ``mark`` in their environment (a grader's forks inherit it)."""
    left = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and mark.encode() in (entry / "environ").read_bytes():
                left.append(f"{entry.name}: {(entry / 'cmdline').read_bytes()[:80]!r}")
        except OSError:
            continue
    return left


def _left_behind(grader_pid: int) -> list[str]:
    """Processes still in the per-worker cgroups of a grader process (which are named after it)."""
    left = []
    for group in Path("/sys/fs/cgroup/pids").glob(f"grader-{grader_pid}-*"):
        procs = (group / "cgroup.procs").read_text().split() if (group / "cgroup.procs").exists() else []
        left += [f"{group.name}: {pid}" for pid in procs] or [f"{group.name} (empty, not removed)"]
    return left


def _ctrl_c_possible() -> None:  # a terminal's Ctrl-C reaches a foreground group whose SIGINT is not ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("jobs,how", [("1", "sigterm"), ("1", "ctrl-c"), ("2", "sigterm"), ("2", "sigterm-group"),
                                      ("2", "ctrl-c")])
def test_an_interrupted_batch_leaves_whole_reports_no_stray_process_and_resumes(tmp_path, jobs, how):
    """SIGTERM to the grader alone, or to its whole process group (as ``timeout`` sends it: its grading
    processes get one from it, then one from the grader); or Ctrl-C, SIGINT to the whole group."""
    subs, out, temporary = _batch(tmp_path / "subs", 12, SLOW), tmp_path / "out", tmp_path / "temporary"
    temporary.mkdir()
    mark = f"GRADER_TEST_BATCH={os.getpid()}-{time.time_ns()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), mark.split("=")[0]: mark.split("=")[1], "TMPDIR": str(temporary)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "grade", str(subs), "-a", "softmax_gradients",
                             "-o", str(out), "-j", jobs], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, preexec_fn=_ctrl_c_possible)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("s[0-9]*.json"))) < 2:
        time.sleep(0.05)
    if how == "sigterm":
        proc.send_signal(signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGTERM if how == "sigterm-group" else signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (130 if how == "ctrl-c" else 143), err
    assert list(temporary.iterdir()) == [], "the grader left temporary files behind"
    written = list(out.glob("s[0-9]*.json"))
    assert 2 <= len(written) < 12
    assert not list(out.glob(".*tmp")), "a half-written report was left behind"
    for path in written:
        Report.model_validate_json(path.read_text())
    assert _marked(mark) == [], "a grading process outlived the batch"
    if cgroups.available():
        time.sleep(0.5)
        assert _left_behind(proc.pid) == [], "a worker outlived the batch"
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out), "-j", "2")
    assert run.returncode == 0 and f"{len(written)} up to date" in run.stderr
    assert len(list(out.glob("s[0-9]*.json"))) == 12
    assert all(Report.model_validate_json(p.read_text()).score == 100 for p in out.glob("s[0-9]*.json"))


def test_a_batch_removes_the_temporary_files_of_writes_killed_midway(tmp_path):
    subs, out = _batch(tmp_path / "subs", 1), tmp_path / "out"
    out.mkdir()
    leftovers = [out / ".s00.json.k3j2_x9q.tmp", out / ".s00.html.a8b7c6d5.tmp"]  # as write_atomic names them
    recent = out / ".s01.json.zz9y8x7w.tmp"  # another run's write, going on now
    kept = [out / "notes.tmp", out / ".notes.txt.abcdefgh.tmp"]  # not ours
    for path in [*leftovers, recent, *kept]:
        path.write_text('{"half": ')
    for path in [*leftovers, *kept]:
        os.utime(path, (time.time() - 3600,) * 2)  # from a run killed an hour ago
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert not any(p.exists() for p in leftovers) and recent.exists() and all(p.exists() for p in kept)
    assert Report.model_validate_json((out / "s00.json").read_text()).score == 100


def test_a_report_is_reused_only_for_the_same_lms_record_and_answers(tmp_path):
    import dataclasses

    from grader import api, exercises
    from grader.batch import reusable
    from grader.evaluation.answers import Answers, CheckAnswers
    from grader.sandbox.limits import Limits
    from grader.source import read_submission
    from grader.submissions import Submission

    subs, out = _batch(tmp_path / "subs", 1), tmp_path / "out"
    assert grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    path, exercise = out / "s00.json", exercises.get("softmax_gradients")
    grading = api.prepare(exercise, None, Limits(), api.default_launcher(Limits()))  # as the command line's
    source, submission = read_submission(subs / "s00.py"), Submission("s00", subs / "s00.py")
    assert reusable(path, source, submission, grading) is not None
    # the same file, now flagged late by Canvas (or under another Canvas id): graded again, so the report says so
    assert reusable(path, source, Submission("s00", subs / "s00.py", late=True), grading) is None
    assert reusable(path, source, Submission("s00", subs / "s00.py", lms_id="4711"), grading) is None
    # one expected answer changed (another reference), or other limits: graded again
    first = next(iter(grading.answers.checks))
    changed = {k: CheckAnswers([e + 1e-9 for e in v.expected], v.mutants) if k == first else v
               for k, v in grading.answers.checks.items()}
    other_answers = dataclasses.replace(grading, answers=Answers(exercise, changed, "reference"))
    assert reusable(path, source, submission, other_answers) is None
    other_limits = dataclasses.replace(grading, limits=dataclasses.replace(grading.limits, call_s=grading.limits.call_s + 1))
    assert reusable(path, source, submission, other_limits) is None


def test_other_reference_solutions_regrade_the_same_ones_do_not(tmp_path):
    """An instructor fixes the reference after a first run: the rerun grades every report again."""
    subs, out = _batch(tmp_path / "subs", 2), tmp_path / "out"
    same, fixed = tmp_path / "same", tmp_path / "fixed"
    for folder in (same, fixed):
        folder.mkdir()
        for path in (ROOT / "solutions").glob("*.py"):
            (folder / path.name).write_text(path.read_text())
    reference = (fixed / "softmax_gradients.py").read_text()
    assert "return e / np.sum(e)" in reference
    (fixed / "softmax_gradients.py").write_text(reference.replace("return e / np.sum(e)", "return e / np.sum(e) + 1e-9"))
    assert grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    first = json.loads((out / "s00.json").read_text())["grader"]["answers_sha256"]
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out), "--solutions", str(same))
    assert run.returncode == 0 and "2 up to date" in run.stderr, run.stderr  # the same answers: reused
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out), "--solutions", str(fixed))
    assert run.returncode == 0 and "0 up to date" in run.stderr, run.stderr
    assert json.loads((out / "s00.json").read_text())["grader"]["answers_sha256"] not in (first, None)


def test_ctrl_c_while_the_command_loads_says_nothing_but_its_status(tmp_path):
    """Loading the command line (NumPy and the rest) takes about half a second: Ctrl-C then is no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "grader", "grade", str(_batch(tmp_path / "subs", 1)),
                             "-a", "softmax_gradients", "-o", str(tmp_path / "out")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_possible)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # NumPy mapped: Python is up (its Ctrl-C handler too), the rest still loads
        try:
            if "_multiarray_umath" in Path(f"/proc/{proc.pid}/maps").read_text():
                break
        except OSError:
            pass
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err


def test_reports_written_by_other_grader_code_are_graded_again(tmp_path):
    """Same version number, other code (a fixed check or hint): the rerun regrades those reports, not the others."""
    subs, out = _batch(tmp_path / "subs", 2), tmp_path / "out"
    assert grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    written = json.loads((out / "s00.json").read_text())
    assert len(written["grader"]["code_sha256"]) == 64
    written["grader"]["code_sha256"] = "0" * 64  # as the grader before the fix would have written it
    (out / "s00.json").write_text(json.dumps(written))
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0 and "1 up to date" in run.stderr, run.stderr
    assert json.loads((out / "s00.json").read_text())["grader"]["code_sha256"] == \
        json.loads((out / "s01.json").read_text())["grader"]["code_sha256"] != "0" * 64
    older = json.loads((out / "s01.json").read_text())
    del older["grader"]["code_sha256"]  # a report from before the field existed
    (out / "s01.json").write_text(json.dumps(older))
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0 and "1 up to date" in run.stderr, run.stderr


def test_the_code_fingerprint_follows_every_file_but_compiled_caches(tmp_path):
    from grader.fingerprint import PACKAGE, code_sha256, folder_sha256

    assert code_sha256() == folder_sha256(PACKAGE)
    tree = tmp_path / "grader"
    (tree / "diagnosis").mkdir(parents=True)
    (tree / "diagnosis" / "explain.py").write_text("MESSAGE = 'the off-diagonal terms are missing'\n")
    (tree / "data.json").write_text("{}")
    first = folder_sha256(tree)
    (tree / "diagnosis" / "__pycache__").mkdir()
    (tree / "diagnosis" / "__pycache__" / "explain.cpython-312.pyc").write_bytes(b"\x00compiled")
    assert folder_sha256(tree) == first
    (tree / "diagnosis" / "explain.py").write_text("MESSAGE = 'the off-diagonal terms of J are missing'\n")
    assert folder_sha256(tree) != first
    (tree / "diagnosis" / "explain.py").write_text("MESSAGE = 'the off-diagonal terms are missing'\n")
    assert folder_sha256(tree) == first
    (tree / "data.json").rename(tree / "other.json")  # the same bytes under another name
    assert folder_sha256(tree) != first


def test_a_report_is_graded_again_when_what_it_says_of_the_file_changed(tmp_path):
    """The same file, but another file beside it now (or another path): the reused report would say otherwise."""
    ann = tmp_path / "subs" / "ann"
    ann.mkdir(parents=True)
    (ann / "softmax_gradients.py").write_text(BASE)
    out = tmp_path / "out"
    assert grader("grade", str(tmp_path / "subs"), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    assert not any("files were found" in n for n in Report.model_validate_json((out / "ann.json").read_text()).notes)
    run = grader("grade", str(tmp_path / "subs"), "-a", "softmax_gradients", "-o", str(out))
    assert "1 up to date" in run.stderr, run.stderr  # nothing changed: reused
    (ann / "scratch.py").write_text("x = 1\n")
    run = grader("grade", str(tmp_path / "subs"), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0 and "0 up to date" in run.stderr, run.stderr
    report = Report.model_validate_json((out / "ann.json").read_text())
    assert report.score == 100 and "graded softmax_gradients.py, ignored scratch.py" in report.notes[0]
    run = grader("grade", "subs", "-a", "softmax_gradients", "-o", str(out), cwd=tmp_path)  # the same folder, named
    assert "1 up to date" in run.stderr, run.stderr  # from where it lies: the same file, reused
    moved = tmp_path / "elsewhere"
    (tmp_path / "subs").rename(moved)  # the class's folder moved: the reports name the files where they are now
    run = grader("grade", str(moved), "-a", "softmax_gradients", "-o", str(out))
    assert "0 up to date" in run.stderr, run.stderr
    assert Report.model_validate_json((out / "ann.json").read_text()).submission.path.startswith(str(moved))
