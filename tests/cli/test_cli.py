"""The command line as a user runs it: exit codes, outputs, files written."""

from __future__ import annotations

import csv
import os
import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from grader.report.model import Report
from tests.conftest import FIXTURES, ROOT

BASE = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()
MISTAKE = (FIXTURES / "softmax_gradients" / "mistakes" / "jacobian.diagonal_only.py").read_text()


def grader(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_check_passes_with_exit_0_on_the_reference():
    run = grader("check", "solutions/softmax_gradients.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "softmax_jacobian/public" in run.stdout and "score 33 / 33" in run.stdout


def test_check_shows_the_hint_under_the_failing_test_and_exits_1(tmp_path):
    path = tmp_path / "me.py"
    path.write_text(BASE + MISTAKE)
    run = grader("check", str(path))
    assert run.returncode == 1
    assert "jacobian.diagonal_only" in run.stdout and "sigmoid" in run.stdout
    assert "hidden" not in run.stdout  # check runs public tests only
    assert "jacobian.diagonal_only (this mistake gives your output on all 3 cases)" in " ".join(run.stdout.split())
    nan = (FIXTURES / "softmax_gradients" / "mistakes" / "generic.nan_or_inf.py").read_text()
    path.write_text(BASE + nan)  # a look of the result, not a mistake that gives it: what it was seen on
    out = " ".join(grader("check", str(path)).stdout.split())
    assert "generic.nan_or_inf (seen on" in out and "generic.nan_or_inf (this mistake" not in out


def test_check_says_it_is_running_on_a_terminal_and_nothing_of_it_in_a_pipe(tmp_path):
    import pty

    path = tmp_path / "me.py"
    path.write_text(BASE)
    running = "running your code on the public tests (each call is stopped after 5 s)"
    piped = grader("check", str(path))
    assert piped.returncode == 0 and running not in piped.stdout + piped.stderr
    main, secondary = pty.openpty()
    try:
        on_terminal = subprocess.Popen([sys.executable, "-m", "grader", "check", str(path)], stdout=secondary,
                                       stderr=secondary, cwd=ROOT)
        os.close(secondary)
        seen = b""
        while True:  # read as it comes (a full terminal would stop the command), until its end closes
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the command has ended and everything was read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(main)
    assert on_terminal.wait(timeout=300) == 0 and running in seen.decode(errors="replace")


def test_check_json_prints_a_valid_report_of_public_tests(tmp_path):
    path = tmp_path / "me.py"
    path.write_text(BASE + MISTAKE)
    run = grader("check", str(path), "--json")
    report = Report.model_validate_json(run.stdout)
    assert report.grader.answers == "public data"
    assert {t.visibility for t in report.tests} == {"public"}
    assert report.hints[0].code == "jacobian.diagonal_only"


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary", b"def f(:\n"])
def test_check_exits_2_on_unreadable_input(tmp_path, content):
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    run = grader("check", str(path), "-a", "softmax_gradients")
    assert run.returncode == 2, run.stdout


def test_check_exits_1_when_readable_code_fails_as_it_loads(tmp_path):
    # it parses, so it is the student's code that fails: its tests fail (1), as for wrong code, not bad input (2)
    path = tmp_path / "me.py"
    path.write_text(BASE + "\nprint(softmax([1, 2]))\nassert softmax([0, 0])[0] == 0.25, 'my own test'\n")
    run = grader("check", str(path), "--json")
    assert run.returncode == 1, run.stdout + run.stderr
    report = Report.model_validate_json(run.stdout)
    assert report.status == "error" and "AssertionError: my own test" in report.message


def test_check_exits_2_on_bad_usage(tmp_path):
    assert grader("check", str(tmp_path / "nope.py")).returncode == 2
    assert grader("check", "solutions/softmax_gradients.py", "-a", "no_such_assignment").returncode == 2
    empty = tmp_path / "x.py"
    empty.write_text("x = 1\n")
    run = grader("check", str(empty))
    assert run.returncode == 2 and "-a NAME" in run.stderr


def test_check_says_plainly_that_a_file_is_no_submission(tmp_path):
    notes = tmp_path / "softmax_gradients.txt"
    notes.write_text(BASE)
    run = grader("check", str(notes))
    assert run.returncode == 2 and "is not a .py or .ipynb file" in run.stderr


def test_a_regrade_warns_of_the_reports_of_students_no_longer_in_the_batch(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for student in ("ann", "bob"):
        (subs / f"{student}.py").write_text(BASE)
    assert grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0 and "also holds" not in run.stderr  # the same batch again: nothing stray
    (subs / "bob.py").unlink()
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0
    assert "also holds 1 report of no submission of this batch (bob.json): left as it is" in run.stderr
    assert (out / "bob.json").exists()  # never removed by the grader
    assert [row["student"] for row in csv.DictReader((out / "summary.csv").open())] == ["ann"]
    # made again from the folder, the class page and the gradebook hold bob, and one warning says so
    assert json.loads((out / "summary.json").read_text())["reports"] == ["ann.json"]
    run = grader("report", str(out))
    said = " ".join(run.stderr.split())
    assert run.returncode == 0 and "1 report here is of no submission of the batch that last wrote this folder" in said
    assert "bob.json; it is included" in said and "bob" in (out / "index.html").read_text()
    run = grader("export", str(out), "--format", "canvas", "-o", str(tmp_path / "canvas.csv"))
    assert run.returncode == 0 and "bob.json; it is included" in " ".join(run.stderr.split())
    assert "bob" in (tmp_path / "canvas.csv").read_text()
    # a report written after that summary (by a batch stopped before its end) is not said to be stale
    carl = json.loads((out / "ann.json").read_text()) | {"student": "carl"}
    (out / "carl.json").write_text(json.dumps(carl))
    run = grader("export", str(out), "--format", "canvas", "-o", str(tmp_path / "canvas.csv"))
    assert run.returncode == 0 and "carl.json" not in run.stderr and "carl" in (tmp_path / "canvas.csv").read_text()


def test_check_needs_no_reference_solutions(tmp_path):
    path = tmp_path / "me.py"
    path.write_text(BASE)
    run = grader("check", str(path), "--json", cwd=tmp_path)  # no solutions/ folder here
    assert run.returncode == 0 and Report.model_validate_json(run.stdout).score == 33


def test_grade_writes_reports_and_summaries(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ann.py").write_text(BASE)
    (subs / "bob.py").write_text(BASE + MISTAKE)
    (subs / "cy.py").write_text("def softmax(z)\n")
    (subs / "notes.txt").write_text("not a submission")
    out = tmp_path / "out"
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out), "-j", "2")
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["ann.html", "ann.json", "bob.html", "bob.json", "cy.html", "cy.json",
                                                    "index.html", "summary.csv", "summary.json"]
    bob = Report.model_validate_json((out / "bob.json").read_text())
    assert bob.score == 80 and bob.hints[0].code == "jacobian.diagonal_only"
    assert {t.visibility for t in bob.tests} == {"public", "hidden"}
    rows = {r["student"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert rows["bob"]["softmax_jacobian"] == "0" and rows["bob"]["softmax"] == "15" and rows["cy"]["status"] == "error"
    stats = json.loads((out / "summary.json").read_text())
    assert stats["graded"] == 2 and stats["errors"] == 1 and stats["score"]["mean"] == 60
    assert stats["pass_rate"]["softmax_jacobian"] == 0.3333  # cy, who could not be graded, did not pass
    assert stats["hint_counts"] == {"jacobian.diagonal_only": 1}
    assert "3 submissions of softmax_gradients: 2 graded, 1 could not be graded" in run.stdout and "jacobian.diagonal_only" in run.stdout


def test_grade_reads_per_student_folders(tmp_path):
    for student in ("dana", "eli"):
        folder = tmp_path / "submitted" / student / "softmax_gradients"
        folder.mkdir(parents=True)
        (folder / "softmax_gradients.py").write_text(BASE)
    (tmp_path / "submitted" / "eli" / "softmax_gradients" / "scratch.py").write_text("x = 1\n")
    out = tmp_path / "out"
    assert grader("grade", str(tmp_path / "submitted"), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    eli = Report.model_validate_json((out / "eli.json").read_text())
    assert eli.student == "eli" and eli.score == 100
    assert "graded softmax_gradients.py, ignored scratch.py" in eli.notes[0]


def test_the_nbgrader_layout_grades_the_named_assignment_of_each_student(tmp_path):
    course = tmp_path / "course"  # nbgrader's course root: submitted/<student>/<assignment>/
    for student, assignments in {"ada": ["softmax_gradients", "rnn_bptt"], "ben": ["rnn_bptt", "softmax_gradients"],
                                 "cy": ["rnn_bptt"]}.items():
        for assignment in assignments:
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            (folder / f"{assignment}.py").write_text(BASE if assignment == "softmax_gradients" else "x = 1\n")
    (course / "submitted" / "ben" / "softmax_gradients" / "softmax_gradients.py").write_text(BASE + MISTAKE)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")  # as nbgrader quickstart leaves them
    (course / "gradebook.db").write_bytes(b"SQLite format 3\x00")
    (course / "source" / "softmax_gradients").mkdir(parents=True)
    for where in (course / "submitted", course):
        out = tmp_path / f"out-{where.name}"
        run = grader("grade", str(where), "-a", "softmax_gradients", "-o", str(out))
        assert run.returncode == 0, run.stderr
        reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}
        assert sorted(reports) == ["ada", "ben", "cy"]
        assert reports["ada"].score == 100 and reports["ada"].submission.path.endswith("softmax_gradients/softmax_gradients.py")
        assert reports["ben"].score == 80 and not reports["ben"].notes  # rnn_bptt.py is another assignment's, not a choice
        cy = reports["cy"]  # no folder for this assignment: in the gradebook, saying so
        assert cy.status == "error" and cy.score == 0
        assert cy.message == "nothing submitted for softmax_gradients: cy/ has no softmax_gradients/ folder (only rnn_bptt/)"


def test_a_student_folder_with_nothing_to_grade_gets_a_report_that_says_so(tmp_path):
    klass = tmp_path / "class"
    for student in ("al", "bob", "cat"):
        (klass / student).mkdir(parents=True)
    (klass / "al" / "hw.py").write_text(BASE)
    (klass / "bob" / "softmax_gradients.txt").write_text(BASE)  # saved with the wrong extension
    out = tmp_path / "out"
    run = grader("grade", str(klass), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}
    assert reports["al"].score == 100
    assert reports["bob"].status == "error" and "no .py or .ipynb file in bob/ (found softmax_gradients.txt)" in reports["bob"].message
    assert reports["cat"].status == "error" and reports["cat"].message == "nothing to grade: the folder cat/ is empty"
    assert "3 submissions of softmax_gradients: 1 graded, 2 could not be graded" in run.stdout
    run = grader("grade", str(klass), "-a", "softmax_gradients", "-o", str(out))  # nothing changed: all up to date
    assert "3 up to date" in run.stderr, run.stderr
    (klass / "cat" / "softmax_gradients.py").write_text(BASE)  # cat hands in after all
    run = grader("grade", str(klass), "-a", "softmax_gradients", "-o", str(out))
    assert "2 up to date" in run.stderr and Report.model_validate_json((out / "cat.json").read_text()).score == 100


def test_student_folders_are_told_from_the_folders_around_them(tmp_path):
    klass = tmp_path / "class"
    (klass / "alice" / "softmax_gradients").mkdir(parents=True)  # a data folder named after the assignment
    (klass / "alice" / "softmax_gradients" / "data.csv").write_text("1,2\n")
    (klass / "alice" / "softmax_gradients.py").write_text(BASE)
    (klass / ".vscode").mkdir()
    (klass / ".vscode" / "settings.json").write_text("{}")
    (klass / "__MACOSX").mkdir()
    (klass / "__MACOSX" / "._alice.py").write_text("mac")
    out = tmp_path / "out"
    run = grader("grade", str(klass), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert sorted(p.stem for p in out.glob("*.json") if p.stem != "summary") == ["alice"]
    assert Report.model_validate_json((out / "alice.json").read_text()).score == 100


def test_a_folder_with_nothing_to_grade_at_all_is_a_wrong_path_not_a_gradebook_of_zeros(tmp_path):
    klass = tmp_path / "pdfs"
    for student in ("al", "bo"):
        (klass / student).mkdir(parents=True)
        (klass / student / "answers.pdf").write_text("%PDF")
    run = grader("grade", str(klass), "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 2 and "no submissions (.py or .ipynb files) found" in run.stderr
    assert "2 student folders or uploads with nothing to grade" in run.stderr
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_the_nbgrader_layout_without_an_assignment_named(tmp_path):
    submitted = tmp_path / "submitted"
    for student in ("ada", "ben"):
        (submitted / student / "softmax_gradients").mkdir(parents=True)
        (submitted / student / "softmax_gradients" / "hw.py").write_text(BASE)
    out = tmp_path / "out"
    run = grader("grade", str(submitted), "-o", str(out))  # its one assignment: graded, told from the code
    assert run.returncode == 0, run.stderr
    assert Report.model_validate_json((out / "ada.json").read_text()).score == 100
    (submitted / "ben" / "rnn_bptt").mkdir()
    (submitted / "ben" / "rnn_bptt" / "rnn_bptt.py").write_text("x = 1\n")
    run = grader("grade", str(submitted), "-o", str(tmp_path / "out2"))
    assert run.returncode == 2 and "several assignments (rnn_bptt, softmax_gradients): name the one to grade with -a" in run.stderr


def test_a_folder_holding_submitted_among_other_things_is_not_an_nbgrader_course(tmp_path):
    klass = tmp_path / "class"
    (klass / "submitted").mkdir(parents=True)  # an empty leftover
    (klass / "carl").mkdir()
    (klass / "carl" / "hw.py").write_text(BASE)
    (klass / "dan.py").write_text(BASE + MISTAKE)
    out = tmp_path / "out"
    run = grader("grade", str(klass), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    scores = {p.stem: Report.model_validate_json(p.read_text()).score for p in out.glob("*.json") if p.stem != "summary"}
    assert scores == {"carl": 100, "dan": 80, "submitted": 0}


def test_output_that_is_not_a_terminal_keeps_each_line_whole(tmp_path):
    klass = tmp_path / "class"
    klass.mkdir()
    (klass / "a_student_with_a_rather_long_name_indeed.py").write_text(BASE + MISTAKE)
    out = tmp_path / ("a_report_folder_with_a_long_name_" * 3)
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}  # rich's default width
    run = subprocess.run([sys.executable, "-m", "grader", "grade", str(klass), "-a", "softmax_gradients", "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("1 submission of softmax_gradients: 1 graded") and line.endswith("commonest hints: jacobian.diagonal_only (1)")
               for line in lines), lines
    assert f"reports in {out} (summary.csv, summary.json, index.html)" in lines
    assert "grading 1 submission\n" in run.stderr


def test_a_notebook_whose_cells_have_no_ids_is_graded_quietly(tmp_path):
    from grader.authoring.templates import to_notebook

    notebook = json.loads(to_notebook("# %%\n" + BASE))
    notebook["nbformat_minor"] = 5  # ids are required from 4.5 on; notebooks saved by old tools have none
    for cell in notebook["cells"]:
        cell.pop("id", None)
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(notebook))
    run = grader("grade", str(path), "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr and "MissingIDField" not in run.stderr, run.stderr
    assert Report.model_validate_json((tmp_path / "out" / "old.json").read_text()).score == 100


def test_grade_without_solutions_fails_clearly(tmp_path):
    (tmp_path / "a.py").write_text(BASE)
    run = grader("grade", str(tmp_path / "a.py"), "-a", "softmax_gradients", "-o", str(tmp_path / "o"),
                 "--solutions", str(tmp_path / "none"), cwd=tmp_path)
    assert run.returncode == 2 and "reference solutions" in run.stderr


def test_schema_is_the_committed_one_and_reports_validate_against_it(tmp_path):
    run = grader("schema")
    schema = json.loads(run.stdout)
    assert schema == json.loads((ROOT / "docs" / "report.schema.json").read_text()), "run: grader schema > docs/report.schema.json"
    path = tmp_path / "me.py"
    path.write_text(BASE + MISTAKE)
    jsonschema.validate(json.loads(grader("check", str(path), "--json").stdout), schema)
    for field in ("schema_version", "assignment", "student", "submission", "status", "score", "max_score", "tests", "hints", "grader", "duration_s"):
        assert field in schema["properties"]


def test_hints_lists_every_code_and_docs_are_up_to_date():
    from grader import exercises

    run = grader("hints")
    for exercise in exercises.EXERCISES.values():
        for mutant in exercise.mutants:
            assert mutant.code in run.stdout
    assert "generic.numerical_gradient" in run.stdout
    assert grader("hints", "--markdown").stdout == (ROOT / "docs" / "hints.md").read_text(), "run: grader hints --markdown > docs/hints.md"


def test_python_dash_m_and_console_script_agree():
    assert "Usage" in grader("--help").stdout


def _without_sandbox(*args: str) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "GRADER_SANDBOX": "off"}
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_without_the_sandbox_the_grader_says_so_refuses_on_demand_and_as_root(tmp_path):
    import os

    path = tmp_path / "me.py"
    path.write_text(BASE)
    refused = _without_sandbox("check", str(path), "--require-sandbox")
    assert refused.returncode == 2 and "required" in refused.stderr
    plain = _without_sandbox("check", str(path), "--json")
    if os.geteuid() == 0:
        assert plain.returncode == 2 and "--unsafe-no-sandbox" in plain.stderr
        plain = _without_sandbox("check", str(path), "--json", "--unsafe-no-sandbox")
    assert plain.returncode == 0 and "bubblewrap is not usable" in plain.stderr
    report = Report.model_validate_json(plain.stdout)
    assert report.grader.sandbox == "process" and "bubblewrap" in report.grader.sandbox_note
    assert report.score == 33


def test_reports_name_the_sandbox_and_its_limits(tmp_path):
    path = tmp_path / "me.py"
    path.write_text(BASE)
    report = Report.model_validate_json(grader("check", str(path), "--json").stdout)
    assert report.grader.sandbox in {"bwrap", "process"}
    for limit in ("call_s", "cpu_s", "memory_mb", "file_mb", "open_files", "processes"):
        assert limit in report.grader.limits
    if report.grader.sandbox == "bwrap":
        assert report.grader.limits["tmp_mb"] == 64


def test_a_file_that_does_not_parse_is_told_by_its_name_and_gets_its_syntax_error(tmp_path):
    path = tmp_path / "softmax_gradients.py"
    path.write_text("def softmax(z)\n    return z\n")
    run = grader("check", str(path))
    assert run.returncode == 2 and "line 1: syntax error" in run.stdout and "cannot tell" not in run.stderr


def test_a_file_that_does_not_parse_nor_tell_its_assignment_still_gets_its_syntax_error(tmp_path):
    path = tmp_path / "homework.py"
    path.write_text("def softmax(z)\n    return z\n")
    run = grader("check", str(path))
    said = " ".join(run.stderr.split())  # the terminal may wrap the line
    assert run.returncode == 2 and said.startswith("error: homework.py, line 1: syntax error")  # what to fix first
    assert "fix that first (the assignment is told from the functions of a file that can be read; -a NAME" in said


def test_a_batch_without_a_name_is_told_by_the_first_submission_that_parses(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "aaa.py").write_text("def softmax(z)\n")  # first in order, broken
    (subs / "bbb.py").write_text(BASE)
    out = tmp_path / "out"
    run = grader("grade", str(subs), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert Report.model_validate_json((out / "bbb.json").read_text()).assignment == "softmax_gradients"
    assert Report.model_validate_json((out / "aaa.json").read_text()).status == "error"


def test_two_students_with_the_same_id_get_two_reports(tmp_path):
    for section in ("sec1", "sec2"):
        (tmp_path / section).mkdir()
    (tmp_path / "sec1" / "ada.py").write_text(BASE)
    (tmp_path / "sec2" / "ada.py").write_text(BASE + MISTAKE)
    out = tmp_path / "out"
    run = grader("grade", str(tmp_path / "sec1"), str(tmp_path / "sec2"), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    scores = sorted(Report.model_validate_json(p.read_text()).score for p in out.glob("ada*.json"))
    assert scores == [80, 100]


def test_a_file_given_twice_is_one_student(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "good.py").write_text(BASE)
    (subs / "bad.py").write_text(BASE + MISTAKE)
    out = tmp_path / "out"  # as `subs/*.py subs/good.py` expands
    run = grader("grade", str(subs / "bad.py"), str(subs / "good.py"), str(subs / ".." / "subs" / "good.py"),
                 "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.glob("*.json")) == ["bad.json", "good.json", "summary.json"]
    assert f"was given more than once (as {subs / 'good.py'}): graded once" in " ".join(run.stderr.split())
    rows = (out / "summary.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].startswith("bad,") and rows[2].startswith("good,")


def test_the_command_line_keeps_numpy_to_one_blas_thread():
    """Every array the grader handles is small: OpenBLAS threads (one per core) would only spin beside the workers."""
    probe = ("import os, grader.cli, numpy; numpy.ones((64, 64)) @ numpy.ones((64, 64)); "
             "print(os.environ.get('OPENBLAS_NUM_THREADS'), [line.split()[1] for line in open('/proc/self/status') "
             "if line.startswith('Threads:')][0])")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert run.stdout.split() == ["1", "1"], run.stdout + run.stderr


@pytest.mark.parametrize("how", ["no permission", "listing fails"])
def test_a_student_folder_that_cannot_be_read_gets_a_report_that_says_so(tmp_path, monkeypatch, how):
    """As root (this suite's usual user) permissions do not bite: the refusal is made the way the system makes it."""
    import errno

    from grader import api, submissions

    klass = tmp_path / "class"
    for student in ("al", "dee"):
        (klass / student).mkdir(parents=True)
        (klass / student / "hw.py").write_text(BASE)
    hidden = klass / "dee"
    if how == "no permission":  # what os.access says of a folder of mode 000 to anyone but root
        real = os.access
        monkeypatch.setattr(submissions.os, "access", lambda p, mode, **kw: Path(p) != hidden and real(p, mode, **kw))
    else:  # readable at first look, then the listing fails (a folder below it, a network file system)
        real = submissions._files_under
        def files_under(folder):
            if Path(folder) == hidden:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
            return real(folder)
        monkeypatch.setattr(submissions, "_files_under", files_under)
    batch = api.grade([klass], assignment="softmax_gradients", out_dir=tmp_path / "out", jobs=1)
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in (tmp_path / "out").glob("*.json")
               if p.stem != "summary"}
    assert reports["al"].score == 100
    assert reports["dee"].status == "error" and reports["dee"].score == 0
    assert reports["dee"].message == "the folder dee/ could not be read (Permission denied)"
    assert batch.statistics["graded"] == 1 and batch.statistics["errors"] == 1


def test_an_outdir_inside_the_submissions_folder_is_not_a_student_on_the_next_run(tmp_path):
    klass = tmp_path / "class"
    klass.mkdir()
    for student in ("alice", "bob"):
        (klass / f"{student}.py").write_text(BASE)
    for _ in range(2):
        run = grader("grade", str(klass), "-a", "softmax_gradients", "-o", str(klass / "reports"))
        assert run.returncode == 0 and "2 submissions of softmax_gradients: 2 graded" in run.stdout, run.stdout + run.stderr
    assert not (klass / "reports" / "reports.json").exists()


def test_an_outdir_that_is_a_file_is_refused_before_anything_is_graded(tmp_path):
    (tmp_path / "alice.py").write_text(BASE)
    (tmp_path / "afile").write_text("notes")
    run = grader("grade", str(tmp_path / "alice.py"), "-a", "softmax_gradients", "-o", str(tmp_path / "afile"))
    assert run.returncode == 2 and "is a file, not a folder" in run.stderr and "Traceback" not in run.stderr
    assert (tmp_path / "afile").read_text() == "notes"


def test_a_call_that_ends_its_process_is_said_so_not_as_an_exception_it_raised(tmp_path):
    crash = tmp_path / "crash.py"
    crash.write_text(BASE + "\n\nimport os\n_right = softmax\n\ndef softmax(z):\n    if len(z) == 3:\n"
                            "        os._exit(1)\n    return _right(z)\n")
    report = json.loads(grader("check", str(crash), "-a", "softmax_gradients", "--json").stdout)
    messages = [h["message"] for t in report["tests"] if t["function"] == "softmax" for h in t["hints"]]
    assert messages and all(m.startswith("softmax ended the process running it: the process running this call "
                                         "exited with status 1.") for m in messages), messages
    assert not any("raised" in m for t in report["tests"] for h in t["hints"] for m in [h["message"]]
                   if "ended the process" in m)


def test_a_student_in_two_paths_is_warned_of_and_one_path_is_not(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "alice.py").write_text(BASE)
    (tmp_path / "b" / "bob.py").write_text(BASE)
    run = grader("grade", str(tmp_path / "a"), str(tmp_path / "b"), "-a", "softmax_gradients", "-o", str(tmp_path / "o1"))
    assert run.returncode == 0 and "warning: alice is in 2 of the PATHs" in run.stderr, run.stderr
    assert "bob is in" not in run.stderr
    run = grader("grade", str(tmp_path / "b"), "-a", "softmax_gradients", "-o", str(tmp_path / "o2"))
    assert run.returncode == 0 and "warning" not in run.stderr, run.stderr


def test_an_nbgrader_course_with_another_folder_in_it_is_warned_of(tmp_path):
    course = tmp_path / "course"
    (course / "submitted" / "alice" / "softmax_gradients").mkdir(parents=True)
    (course / "submitted" / "alice" / "softmax_gradients" / "softmax_gradients.py").write_text(BASE)
    (course / "source").mkdir()
    run = grader("grade", str(course), "-a", "softmax_gradients", "-o", str(tmp_path / "o1"))
    assert run.returncode == 0 and "holds submitted/" not in run.stderr, run.stderr  # nbgrader's own folders only
    (course / "notes").mkdir()
    run = grader("grade", str(course), "-a", "softmax_gradients", "-o", str(tmp_path / "o2"))
    assert "holds submitted/ beside other folders" in run.stderr and f"grade {course / 'submitted'} instead" in run.stderr


def test_a_batch_graded_against_the_wrong_assignment_is_warned_of(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in ("ann", "bob"):
        (subs / f"{student}.py").write_text(BASE)
    run = grader("grade", str(subs), "-a", "rnn_bptt", "-o", str(tmp_path / "wrong"))
    assert run.returncode == 0
    assert "none of the 2 submissions graded defines a function of rnn_bptt: is it the right assignment?" in run.stderr
    notes = Report.model_validate_json((tmp_path / "wrong" / "ann.json").read_text()).notes
    assert any("its functions are those of softmax_gradients" in note for note in notes)
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(tmp_path / "right"))
    assert run.returncode == 0 and "right assignment" not in run.stderr
    notes = Report.model_validate_json((tmp_path / "right" / "ann.json").read_text()).notes
    assert not any("right assignment" in note for note in notes)


def test_of_a_students_files_the_one_handed_in_is_graded_however_they_were_copied_and_the_notes_say_where_each_lies(tmp_path):
    from grader.authoring.templates import to_notebook

    subs = tmp_path / "subs"
    kim = subs / "kim"  # last week's copy kept aside in backup/, however new its date
    (kim / "backup").mkdir(parents=True)
    (kim / "backup" / "softmax_gradients.py").write_text(BASE + MISTAKE)
    (kim / "softmax_gradients.py").write_text(BASE)
    lee = subs / "lee"  # a newer file of their own beside the one with the functions
    lee.mkdir()
    (lee / "main.py").write_text(BASE)
    (lee / "helpers.py").write_text("x = 1\n")
    max_ = subs / "max"  # the template's notebook, never filled in, beside the .py they wrote
    max_.mkdir()
    (max_ / "softmax_gradients.py").write_text(BASE + MISTAKE)
    (max_ / "softmax_gradients.ipynb").write_text((ROOT / "assignments" / "softmax_gradients" / "softmax_gradients.ipynb").read_text())
    ned = subs / "ned"  # two filled-in copies: the notebook, the one handed in, wins over the .py of the same date
    ned.mkdir()
    (ned / "softmax_gradients.ipynb").write_text(to_notebook("# %%\n" + BASE))
    (ned / "softmax_gradients.py").write_text(BASE + MISTAKE)
    ola = subs / "ola"  # a comment that names the stub's exception is no stub
    ola.mkdir()
    (ola / "softmax_gradients.py").write_text(BASE.replace("    p = softmax(z)\n", "    # raise NotImplementedError\n    p = softmax(z)\n", 1))
    (ola / "scratch_copy.py").write_text(BASE + MISTAKE)
    pia = subs / "pia"  # a complete .py saved as UTF-16, beside the template's notebook
    pia.mkdir()
    (pia / "softmax_gradients.py").write_bytes(BASE.encode("utf-16"))
    (pia / "softmax_gradients.ipynb").write_text((ROOT / "assignments" / "softmax_gradients" / "softmax_gradients.ipynb").read_text())
    week_ago = time.time() - 7 * 86400
    for dates in ("same", "backup newer", "backup older"):
        for path in subs.rglob("*.*"):
            os.utime(path, (week_ago, week_ago))  # as unzipping or a clone leaves them
        if dates != "same":
            newer = kim / "backup" / "softmax_gradients.py" if dates == "backup newer" else kim / "softmax_gradients.py"
            os.utime(newer, (week_ago + 60, week_ago + 60))
            for path in (lee / "helpers.py", max_ / "softmax_gradients.ipynb"):
                os.utime(path, (week_ago + 60, week_ago + 60))
        out = tmp_path / f"out-{dates}"
        run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
        assert run.returncode == 0, run.stderr
        reports = {s: Report.model_validate_json((out / f"{s}.json").read_text())
                   for s in ("kim", "lee", "max", "ned", "ola", "pia")}
        assert reports["ola"].score == 100 and reports["pia"].score == 100, (reports["ola"].notes, reports["pia"].notes)
        assert reports["kim"].score == 100 and reports["kim"].submission.path.endswith("kim/softmax_gradients.py")
        assert "graded softmax_gradients.py, ignored backup/softmax_gradients.py" in reports["kim"].notes[0]
        assert reports["lee"].score == 100 and "graded main.py, ignored helpers.py" in reports["lee"].notes[0]
        assert reports["max"].score == 80 and "graded softmax_gradients.py, ignored softmax_gradients.ipynb" in reports["max"].notes[0]
        assert reports["ned"].score == 100 and reports["ned"].submission.kind == "ipynb"


def test_a_student_id_that_reads_as_a_formula_stays_text_in_the_spreadsheets(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / '=HYPERLINK("http---x","click").py').write_text(BASE)  # a file name a student chose
    (subs / "-ann.py").write_text(BASE)
    (subs / "bob.py").write_text(BASE)
    assert grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    students = [r["student"] for r in csv.DictReader((out / "summary.csv").open())]
    assert sorted(students) == ["'-ann", "'=HYPERLINK(\"http---x\",\"click\")", "bob"]
    export = tmp_path / "canvas.csv"
    assert grader("export", str(out), "--format", "canvas", "-o", str(export)).returncode in (0, 1)
    names = [r["Student"] for r in csv.DictReader(export.open())]
    assert "'=HYPERLINK(\"http---x\",\"click\")" in names and "bob" in names
    assert not any(n.startswith(("=", "-", "+", "@")) for n in names)


def test_without_a_the_assignment_most_submissions_define_is_graded_and_the_others_are_named(tmp_path):
    from grader.authoring.templates import to_notebook

    rnn = (ROOT / "tests" / "fixtures" / "rnn_bptt" / "right" / "vectorised.py").read_text()
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "aaron.py").write_text(rnn)  # first in alphabetical order, and the odd one out
    for student in ("bea", "cal", "dan"):
        (subs / f"{student}.py").write_text(BASE)
    (subs / "eve.ipynb").write_text(to_notebook("# %%\n" + BASE))
    one_string = json.loads(to_notebook("# %%\n" + BASE))  # a cell's source saved as one string, not a list of lines
    for cell in one_string["cells"]:
        cell["source"] = "".join(cell["source"])
    (subs / "fay.ipynb").write_text(json.dumps(one_string))
    for student in ("gus", "hal"):  # two more of rnn_bptt, in notebooks of one string: four against three
        rnn_notebook = json.loads(to_notebook("# %%\n" + rnn))
        for cell in rnn_notebook["cells"]:
            cell["source"] = "".join(cell["source"])
        (subs / f"{student}.ipynb").write_text(json.dumps(rnn_notebook))
    run = grader("grade", str(subs), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert "8 submissions of softmax_gradients: 8 graded" in run.stdout
    assert ("without -a, graded as softmax_gradients: 5 submissions define its functions; 3 define those of rnn_bptt "
            "(aaron, gus, hal), and score 0 on softmax_gradients's tests") in " ".join(run.stderr.split()), run.stderr
    scores = {p.stem: Report.model_validate_json(p.read_text()).score for p in out.glob("*.json") if p.stem != "summary"}
    assert scores == {"aaron": 0, "bea": 100, "cal": 100, "dan": 100, "eve": 100, "fay": 100, "gus": 0, "hal": 0}
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(tmp_path / "out2"))  # chosen: no warning
    assert "without -a" not in run.stderr and "8 submissions of softmax_gradients" in run.stdout
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "bea.py").write_text(BASE)
    run = grader("grade", str(alone), "-o", str(tmp_path / "out3"))  # all agree: nothing to warn of
    assert run.returncode == 0 and "warning" not in run.stderr and "1 submission of softmax_gradients" in run.stdout


def test_another_assignment_is_not_graded_into_a_folder_of_reports(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "ann.py").write_text(BASE)
    assert grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    run = grader("grade", str(subs), "-a", "rnn_bptt", "-o", str(out))
    assert run.returncode == 2
    assert f"{out} holds the reports of softmax_gradients (summary.json); grade rnn_bptt into another folder" in run.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing replaced
    (out / "summary.json").unlink()  # a first batch interrupted before its summaries: its reports say it all the same
    assert "holds the reports of softmax_gradients (ann.json)" in grader("grade", str(subs), "-a", "rnn_bptt", "-o", str(out)).stderr
    assert grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
