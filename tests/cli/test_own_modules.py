"""A student's own module (a helpers.py handed in beside the graded file) is imported as Python would import it."""

from __future__ import annotations

import json
import zipfile

from grader.report.model import Report
from tests.cli.test_cli import BASE, grader

HELPERS = """import numpy as np


def stable_softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()
"""
USES_HELPERS = BASE.replace("import numpy as np", "import numpy as np\nfrom helpers import stable_softmax", 1) + \
    "\n\ndef softmax(z):\n    return stable_softmax(z)\n"


def _report(out, name: str) -> Report:
    return Report.model_validate_json((out / f"{name}.json").read_text())


def test_a_helpers_module_in_a_students_folder_is_run_with_the_file_that_imports_it(tmp_path):
    hal, ivy = tmp_path / "class" / "hal", tmp_path / "class" / "ivy"
    hal.mkdir(parents=True)
    ivy.mkdir()
    (hal / "softmax_gradients.py").write_text(USES_HELPERS)
    (hal / "helpers.py").write_text(HELPERS)
    (hal / "scratch.py").write_text("x = 1\n")  # beside it, but not imported: ignored, as before
    (ivy / "softmax_gradients.py").write_text(USES_HELPERS)  # imports a helpers.py she did not hand in
    out = tmp_path / "out"
    run = grader("grade", str(tmp_path / "class"), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    hal_report = _report(out, "hal")
    assert hal_report.score == 100
    assert list(hal_report.submission.modules) == ["helpers.py"]
    assert "graded softmax_gradients.py with helpers.py, ignored scratch.py" in hal_report.notes[0]
    assert "softmax_gradients.py imports helpers.py, the student's own module beside it" in hal_report.notes[1]
    ivy_report = _report(out, "ivy")  # hal's helpers.py is not hers
    assert ivy_report.score == 0 and ivy_report.submission.modules is None
    assert "if it is a file of your own (helpers.py), hand it in beside this one" in ivy_report.message
    assert "A module of a student's own (a helpers.py) cannot be installed" in run.stderr
    again = grader("grade", str(tmp_path / "class"), "-a", "softmax_gradients", "-o", str(out))
    assert "2 up to date from an earlier run" in again.stderr + again.stdout
    (hal / "helpers.py").write_text(HELPERS.replace("np.max(z)", "0.0"))  # the helper changed: graded again
    again = grader("grade", str(tmp_path / "class"), "-a", "softmax_gradients", "-o", str(out))
    assert "1 up to date from an earlier run" in again.stderr + again.stdout
    assert [h.code for h in _report(out, "hal").hints] == ["softmax.unstable"]


def test_an_error_in_a_students_module_is_said_in_that_file(tmp_path):
    hal = tmp_path / "class" / "hal"
    hal.mkdir(parents=True)
    (hal / "softmax_gradients.py").write_text(USES_HELPERS)
    (hal / "helpers.py").write_text(HELPERS.replace("return e / e.sum()", "return e / e.sum(axis=5)"))
    out = tmp_path / "out"
    assert grader("grade", str(tmp_path / "class"), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    test = next(t for t in _report(out, "hal").tests if t.id == "softmax/public")
    assert "(helpers.py, line 6: `return e / e.sum(axis=5)`)" in test.message
    (hal / "helpers.py").write_text(HELPERS.replace("def stable_softmax(z):", "def stable_softmax(z)"))
    assert grader("grade", str(tmp_path / "class"), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    broken = _report(out, "hal")
    assert broken.status == "error" and "syntax error" in broken.message
    assert broken.message.endswith("(in helpers.py, which softmax_gradients.py imports)")
    assert "helpers.py" in broken.submission.modules  # its hash: the report is not reused once it is mended


def test_a_helpers_module_in_a_canvas_download_is_the_same_students_only(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("smithjohn_12345_1001_softmax_gradients.py", USES_HELPERS)
        zf.writestr("smithjohn_12345_1002_helpers.py", HELPERS.replace("np.max(z)", "0.0"))  # first upload
        zf.writestr("smithjohn_12345_1003_helpers-1.py", HELPERS)  # the same name uploaded again: the latest
        zf.writestr("doejane_23456_1004_softmax_gradients.py", USES_HELPERS)  # John's helpers are not hers
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    john = _report(out, "smithjohn")
    assert john.score == 100 and list(john.submission.modules) == ["helpers-1.py"]
    assert "with smithjohn_12345_1003_helpers-1.py, ignored smithjohn_12345_1002_helpers.py" in john.notes[0]
    assert _report(out, "doejane").score == 0


def test_a_folder_of_files_is_each_a_student_not_a_module_of_another(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "alice.py").write_text(USES_HELPERS)
    (flat / "helpers.py").write_text(HELPERS)  # a student called helpers, in a folder of students' files
    out = tmp_path / "out"
    assert grader("grade", str(flat), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    assert _report(out, "alice").score == 0 and _report(out, "alice").submission.modules is None


def test_grader_check_imports_the_students_module_beside_the_file(tmp_path):
    (tmp_path / "softmax_gradients.py").write_text(USES_HELPERS)
    (tmp_path / "helpers.py").write_text(HELPERS)
    run = grader("check", str(tmp_path / "softmax_gradients.py"), "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["submission"]["modules"] == {"helpers.py": report["submission"]["modules"]["helpers.py"]}
    (tmp_path / "helpers.py").unlink()
    run = grader("check", str(tmp_path / "softmax_gradients.py"))
    assert run.returncode != 0 and "hand it in beside this one" in run.stdout
