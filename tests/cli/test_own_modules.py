"""A student's own module (a helpers.py handed in beside the graded file) is imported as Python would import it."""

from __future__ import annotations

import hashlib
import json
import zipfile

from grader.authoring.templates import to_notebook
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
    assert "softmax_gradients.py imports helpers.py, a module handed in beside it, which it can import when graded" in hal_report.notes[1]
    ivy_report = _report(out, "ivy")  # hal's helpers.py is not hers
    assert ivy_report.score == 0 and ivy_report.submission.modules is None
    assert "if it is a module of your own (helpers.py, or a folder helpers/), hand it in beside this one" in ivy_report.message
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
    assert "(helpers.py, line 6, in stable_softmax: `return e / e.sum(axis=5)`)" in test.message
    (hal / "helpers.py").write_text(HELPERS.replace("def stable_softmax(z):", "def stable_softmax(z)"))
    assert grader("grade", str(tmp_path / "class"), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    broken = _report(out, "hal")
    assert broken.status == "error"  # raised where it is imported, as Python's SyntaxError is
    assert "raised ImportError: helpers.py, line 4: syntax error: expected ':'" in broken.message
    assert broken.message.endswith("(softmax_gradients.py, line 2: `from helpers import stable_softmax`)")
    assert "helpers.py" in broken.submission.modules  # its hash: the report is not reused once it is mended
    guarded = BASE + '\n\nif __name__ == "__main__":\n    from helpers import stable_softmax\n'  # an import never run
    (hal / "softmax_gradients.py").write_text(guarded)
    assert grader("grade", str(tmp_path / "class"), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    assert _report(out, "hal").score == 100


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
    assert report["submission"]["modules"] == {"helpers.py": hashlib.sha256(HELPERS.encode()).hexdigest()}
    (tmp_path / "helpers.py").unlink()
    run = grader("check", str(tmp_path / "softmax_gradients.py"))
    assert run.returncode != 0 and "hand it in beside this one" in " ".join(run.stdout.split())


def _grade_hal(tmp_path, files: dict[str, str]) -> tuple[Report, Report]:
    """Hal's folder holding ``files``, graded in a batch with Ivy's right
    answer: Hal's report and Ivy's."""
    hal, ivy = tmp_path / "class" / "hal", tmp_path / "class" / "ivy"
    hal.mkdir(parents=True)
    ivy.mkdir()
    for name, text in files.items():
        (hal / name).parent.mkdir(parents=True, exist_ok=True)
        (hal / name).write_text(text)
    (ivy / "softmax_gradients.py").write_text(BASE)
    out = tmp_path / "out"
    run = grader("grade", str(tmp_path / "class"), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    ivy_report = _report(out, "ivy")
    assert ivy_report.status == "graded" and ivy_report.score == 100
    return _report(out, "hal"), ivy_report


def test_a_helpers_file_holding_a_notebook_is_said_to_be_one_and_the_batch_goes_on(tmp_path):
    hal, _ = _grade_hal(tmp_path, {"softmax_gradients.py": USES_HELPERS, "helpers.py": to_notebook(
        "# %%\nimport numpy as np\n\n# %%\n" + HELPERS.split("\n", 1)[1])})
    assert hal.status == "error"
    assert "raised ImportError: helpers.py holds a Jupyter notebook, not Python code" in hal.message
    assert hal.message.endswith("(softmax_gradients.py, line 2: `from helpers import stable_softmax`)")
    as_notebook, _ = _grade_hal(tmp_path / "ipynb", {"softmax_gradients.py": USES_HELPERS, "helpers.ipynb": to_notebook(
        "# %%\n" + HELPERS)})  # the helpers kept as a notebook: Python cannot import it either, and is told so
    assert "raised ImportError: helpers.ipynb holds a Jupyter notebook, not Python code" in as_notebook.message
    assert "not installed" not in as_notebook.message and not any("can import" in n for n in as_notebook.notes)


def test_an_empty_helpers_file_is_an_empty_module_as_in_python(tmp_path):
    uses = USES_HELPERS.replace("from helpers import stable_softmax", "import helpers\nfrom helpers2 import stable_softmax")
    hal, _ = _grade_hal(tmp_path, {"softmax_gradients.py": uses, "helpers.py": "\n", "helpers2.py": HELPERS})
    assert hal.status == "graded" and hal.score == 100
    assert sorted(hal.submission.modules) == ["helpers.py", "helpers2.py"]


def test_a_helper_named_as_a_module_the_grader_or_python_has_is_said_to_need_another_name(tmp_path):
    uses = USES_HELPERS.replace("from helpers import stable_softmax", "from calls import stable_softmax\nimport code")
    hal, _ = _grade_hal(tmp_path, {"softmax_gradients.py": uses, "calls.py": HELPERS, "code.py": "x = 1\n"})
    assert hal.submission.modules is None
    said = " ".join(hal.notes)
    assert ("calls.py was not used: calls is also the name of a module the grader runs with, which `import calls` "
            "gives when graded; if the code means your file, rename it and the import") in said
    assert "code.py was not used: code is also the name of a module of Python's standard library" in said
    failed = " ".join(t.message for t in hal.tests if t.status != "passed") + (hal.message or "")
    assert "cannot import name 'stable_softmax' from 'calls'" in failed and "/" not in failed.split("from 'calls'")[1][:3]
    assert "sandbox/calls.py" not in failed  # where the grader's own module lies says nothing to the student
    good, _ = _grade_hal(tmp_path / "again", {"softmax_gradients.py": USES_HELPERS, "helpers.py": HELPERS})
    assert not any("was not used" in note for note in good.notes)


def test_a_helper_that_raises_in_a_notebook_is_told_as_its_own_error_each_time_it_is_imported(tmp_path):
    raising = HELPERS + "\nSCALE = 1 / 0\n"
    notebook = to_notebook("# %%\nimport helpers\n\n# %%\n" + USES_HELPERS)
    hal, _ = _grade_hal(tmp_path, {"hw.ipynb": notebook, "helpers.py": raising})
    said = (hal.message or "") + " ".join(hal.notes) + " ".join(t.message or "" for t in hal.tests)
    assert "cell 1 raised ZeroDivisionError: division by zero (helpers.py, line 8: `SCALE = 1 / 0`)" in said
    assert "cell 2 raised ZeroDivisionError" in said  # imported again, run again: as Python does
    assert "not installed" not in said and "hand it in" not in said
    assert "helpers.py raised" not in said  # a module is not a cell that raised


def test_a_helper_that_imports_the_graded_file_back_gets_it_as_python_gives_it(tmp_path):
    jacobian = ("import numpy as np\n\n\ndef jac(z):\n    from softmax_gradients import softmax\n    p = softmax(z)\n"
                "    return np.diag(p) - np.outer(p, p)\n")
    uses = BASE.replace("import numpy as np", "import numpy as np\nfrom helpers import jac", 1) + \
        "\n\ndef softmax_jacobian(z):\n    return jac(z)\n"
    hal, _ = _grade_hal(tmp_path, {"softmax_gradients.py": uses, "helpers.py": jacobian})
    assert hal.status == "graded" and hal.score == 100, hal.message
    assert list(hal.submission.modules) == ["helpers.py"]  # the graded file is not a module of its own to list
    circular = "from softmax_gradients import softmax\n\n\n" + jacobian.replace("    from softmax_gradients import softmax\n", "")
    looped, _ = _grade_hal(tmp_path / "again", {"softmax_gradients.py": uses, "helpers.py": circular})
    assert looped.status == "error" and "ImportError" in looped.message  # as `python softmax_gradients.py` fails
    assert "partially initialized module 'helpers'" in looped.message
    assert "not installed" not in looped.message and "hand it in" not in looped.message


def test_a_canvas_reupload_is_imported_back_by_the_name_the_student_gave_it(tmp_path):
    jacobian = ("import numpy as np\n\n\ndef jac(z):\n    from softmax_gradients import softmax\n    p = softmax(z)\n"
                "    return np.diag(p) - np.outer(p, p)\n")
    uses = BASE.replace("import numpy as np", "import numpy as np\nfrom helpers import jac", 1) + \
        "\n\ndef softmax_jacobian(z):\n    return jac(z)\n"
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("smithjohn_12345_1001_softmax_gradients.py", "def softmax(z):\n    return z\n")  # first try
        zf.writestr("smithjohn_12345_1002_helpers.py", jacobian)
        zf.writestr("smithjohn_12345_1003_softmax_gradients-1.py", uses)  # uploaded again: Canvas adds -1
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    john = _report(out, "smithjohn")
    assert john.submission.path.endswith("softmax_gradients-1.py")
    assert john.score == 100, [t.message for t in john.tests if t.status != "passed"]  # not the first try's softmax


def test_a_folder_of_the_students_modules_is_a_package_as_in_python(tmp_path):
    uses = BASE.replace("import numpy as np", "import numpy as np\nfrom utils.helpers import stable_softmax\n"
                        "import utils.sub.deep as deep", 1) + \
        "\n\ndef softmax(z):\n    return deep.twice(stable_softmax(z)) / 2\n"
    helpers = HELPERS.replace("import numpy as np", "import numpy as np\nfrom .consts import SHIFT").replace(
        "np.max(z))", "np.max(z) + SHIFT)")
    hal, _ = _grade_hal(tmp_path, {"softmax_gradients.py": uses, "utils/helpers.py": helpers,  # no __init__.py
                                   "utils/consts.py": "SHIFT = 0.0\n", "utils/sub/__init__.py": "",
                                   "utils/sub/deep.py": "def twice(x):\n    return 2 * x\n", "notes.py": "x = 1\n"})
    assert hal.status == "graded" and hal.score == 100, hal.message
    assert sorted(hal.submission.modules) == ["utils/consts.py", "utils/helpers.py", "utils/sub/__init__.py",
                                              "utils/sub/deep.py"]
    assert hal.notes[0].endswith("with utils/consts.py, utils/helpers.py, utils/sub/__init__.py, utils/sub/deep.py, "
                                 "ignored notes.py")
    checked = grader("check", str(tmp_path / "class" / "hal" / "softmax_gradients.py"), "--json")  # the student's own
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "utils/sub/deep.py" in json.loads(checked.stdout)["submission"]["modules"]
    broken, _ = _grade_hal(tmp_path / "again", {"softmax_gradients.py": uses, "utils/helpers.py": helpers,
                                                "utils/consts.py": "SHIFT = 1 / 0\n", "utils/sub/deep.py": ""})
    assert broken.status == "error"
    assert broken.message.endswith("raised ZeroDivisionError: division by zero (utils/consts.py, line 1: `SHIFT = 1 / 0`)")


def test_of_a_students_files_and_folders_of_one_name_import_takes_the_one_python_takes(tmp_path):
    uses_click = USES_HELPERS.replace("from helpers import stable_softmax", "from helpers import stable_softmax\nimport click")
    notebook, _ = _grade_hal(tmp_path / "nb", {"softmax_gradients.py": uses_click, "helpers.py": HELPERS,
                                               "click.ipynb": to_notebook("# %%\nx = 1\n")})
    assert notebook.score == 100 and list(notebook.submission.modules) == ["helpers.py"]  # the installed click
    uses_utils = USES_HELPERS.replace("from helpers import", "from utils import")
    broken = HELPERS.replace("np.max(z)", "0.0")  # unstable: scores less, to tell which file was imported
    package, _ = _grade_hal(tmp_path / "pkg", {"softmax_gradients.py": uses_utils, "utils.py": broken,
                                               "utils/__init__.py": HELPERS})
    assert package.score == 100 and "utils/__init__.py" in package.submission.modules  # a package comes first
    loose, _ = _grade_hal(tmp_path / "loose", {"softmax_gradients.py": uses_utils, "utils.py": HELPERS,
                                               "utils/extra.py": broken})
    assert loose.score == 100 and list(loose.submission.modules) == ["utils.py"]  # a folder without __init__ comes last


def test_a_package_past_the_limit_is_said_cut_and_its_missing_module_is_not_a_package_to_install(tmp_path):
    files = {f"utils/m{i:02d}.py": f"X = {i}\n" for i in range(60)}
    uses = USES_HELPERS.replace("from helpers import stable_softmax", "from helpers import stable_softmax\n"
                                "from utils.nothere import X")
    hal, _ = _grade_hal(tmp_path, {"softmax_gradients.py": uses, "helpers.py": HELPERS, **files})
    assert any(note.startswith("utils/ holds more modules than the 50 of your own run with the submission")
               for note in hal.notes), hal.notes
    assert hal.status == "error" and "No module named 'utils.nothere'" in hal.message
    assert "not installed" not in hal.message and hal.missing_packages == []


def test_a_students_own_test_left_in_a_helper_is_named_with_the_main_guard(tmp_path):
    testing = HELPERS + "\nprint(stable_softmax([1, 'a']))\n"  # raises in stable_softmax, called from the test
    hal, _ = _grade_hal(tmp_path, {"softmax_gradients.py": USES_HELPERS, "helpers.py": testing})
    assert hal.status == "error" and "(helpers.py, line 5" in hal.message
    assert "it was called from helpers.py, line 8: `print(stable_softmax([1, 'a']))`" in hal.message
    assert '__name__ == "__main__"' in hal.message
