"""Running student code: a raising, hanging, crashing or missing function costs only its own tests."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.conftest import FIXTURES, by_function, max_points, points

BASE = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()


def _only_lost(report, function):
    got, full = points(report), max_points(report)
    assert got[function] == 0
    assert all(got[f] == full[f] for f in full if f != function), got


def test_a_function_that_raises_costs_only_its_tests_and_the_message_quotes_the_students_line(grade_text):
    report = grade_text(BASE + "\n\ndef softmax_backward(y, dL_dy):\n    s = y * dL_dy\n    return s / 0 + undefined_name\n")
    _only_lost(report, "softmax_backward")
    test = by_function(report)["softmax_backward"][0]
    assert test.status == "error"
    assert "NameError" in test.message and "student.py, line" in test.message and "undefined_name" in test.message
    assert test.hints[0].code == "generic.exception"
    assert "grader" not in test.message  # no frame of the grader's own code


def test_a_function_that_hangs_times_out_and_costs_only_its_tests(grade_text):
    report = grade_text(BASE + "\n\ndef squared_loss_grad(z, y):\n    while True:\n        pass\n")
    _only_lost(report, "squared_loss_grad")
    assert {t.status for t in by_function(report)["squared_loss_grad"]} == {"timeout"}
    assert by_function(report)["squared_loss_grad"][0].hints[0].code == "generic.timeout"
    messages = sorted(t.message for t in by_function(report)["squared_loss_grad"])
    # two calls hang (where is quoted), then the function's other cases are skipped, and said to be
    assert messages[0] == "not run: earlier calls of squared_loss_grad ran past the time limit of 2 s per call"
    assert messages[-1].startswith("ran past the time limit of 2 s per call on case ") and "(it was at student.py" in messages[-1]


def test_a_hung_call_is_located_in_the_students_code_down_to_the_helper_it_is_stuck_in(grade_text):
    text = BASE + "\n\ndef _normalise(v):\n    while v.sum() != 1.0 or True:\n        v = v / v.sum()\n    return v\n\n" \
        "def squared_loss_grad(z, y):\n    p = _normalise(np.exp(z))\n    return p - y\n"
    report = grade_text(text)
    message = by_function(report)["squared_loss_grad"][0].message
    lines = text.splitlines()
    loop = next(i for i, line in enumerate(lines, 1) if line.startswith("    while v.sum()"))
    call = next(i for i, line in enumerate(lines, 1) if "p = _normalise(" in line)
    assert f"(it was at student.py, line {loop}: `while v.sum()" in message or f"line {loop + 1}: `v = v / v.sum()`" in message, message
    assert f"called from student.py, line {call}: `p = _normalise(np.exp(z))`)" in message, message


def test_a_hang_in_a_function_itself_is_located_without_a_caller(grade_text):
    report = grade_text(BASE + "\n\ndef squared_loss_grad(z, y):\n    while True:\n        pass\n")
    message = by_function(report)["squared_loss_grad"][0].message
    assert "(it was at student.py, line" in message and "called from" not in message, message


def test_a_notebook_cell_that_hangs_is_cut_before_the_statement_that_hung_as_a_raising_cell_is(grade_text):
    # the right functions, then a training loop that never ends, in the same cell: the functions are kept
    cells = ["import time\n\n" + BASE + "\nfor epoch in range(10**9):\n    time.sleep(0.01)\n", "x = softmax([1.0, 2.0])"]
    report = grade_text(nbformat.writes(new_notebook(cells=[new_code_cell(c) for c in cells])), "student.ipynb")
    assert report.status == "graded" and report.score == 100, report.message
    loop = cells[0].splitlines().index("for epoch in range(10**9):") + 1
    note = next(n for n in report.notes if "ran past its time limit" in n)
    assert note.startswith("the notebook's top-level code (all its cells together) ran past its time limit of 5 s while cell 1 was running (it was at cell 1, line")
    assert note.endswith(f"cell 1 was cut short before line {loop}, the statement that hung, and the notebook was run "
                         "again"), note


def test_a_notebook_cell_that_hangs_from_its_first_statement_is_left_out(grade_text):
    cells = [BASE, "def wait_for(n):\n    while n:\n        n = n * 1\n", "wait_for(1)\nprint('never')", "x = softmax([1.0, 2.0])"]
    report = grade_text(nbformat.writes(new_notebook(cells=[new_code_cell(c) for c in cells])), "student.ipynb")
    assert report.status == "graded" and report.score == 100, report.message
    note = next(n for n in report.notes if "ran past its time limit" in n)
    assert "(it was at cell 2, line 2: `while n:`" in note or "cell 2, line 3" in note, note
    assert "called from cell 3, line 1: `wait_for(1)`)" in note and note.endswith("cell 3 was left out, and the notebook was run again")


def test_a_notebook_cell_stuck_in_one_long_c_call_is_left_out_whole(grade_text):
    cells = [BASE, "total = sum(range(10**12))  # C code: it cannot say where it is", "x = softmax([1.0, 2.0])"]
    report = grade_text(nbformat.writes(new_notebook(cells=[new_code_cell(c) for c in cells])), "student.ipynb")
    assert report.status == "graded" and report.score == 100, report.message
    note = next(n for n in report.notes if "ran past its time limit" in n)
    assert "while cell 2 was running (it could not say where" in note and "cell 2 was left out" in note, note


def test_a_py_file_whose_top_level_code_hangs_cannot_be_graded_and_says_where(grade_text):
    report = grade_text(BASE + "\n\ndef train(steps):\n    while steps:\n        steps += 1\n\ntrain(1)\n")
    assert report.status == "error" and report.score == 0
    assert report.message.startswith("the submission's top-level code ran past its time limit of 5 s (it was at student.py, line")
    assert "called from student.py" in report.message and "`train(1)`)" in report.message


def test_a_submission_that_takes_the_locating_signal_over_still_times_out_without_a_place(grade_text):
    text = BASE + "\nimport signal\nsignal.signal(signal.SIGUSR2, signal.SIG_IGN)\nwhile True:\n    pass\n"
    report = grade_text(text)
    assert report.status == "error" and report.message == "the submission's top-level code ran past its time limit of 5 s", report.message


STRING_SOFTMAX = "\n\ndef softmax(z):\n    return ' '.join(str(v) for v in z)\n"  # the wrong form: text


def test_a_function_raising_on_its_call_to_a_malformed_function_is_told_to_fix_that_one_first(grade_text):
    calls_it = "\n\ndef cross_entropy_grad(z, label):\n    return softmax(z) - np.eye(len(z))[label]\n"
    report = grade_text(BASE + STRING_SOFTMAX + calls_it)
    test = next(t for t in report.tests if t.id == "cross_entropy_grad/public")
    assert test.hints[0].code == "generic.exception"
    assert "That line calls softmax, whose own tests fail: fix softmax first" in test.hints[0].message, test.hints[0].message


@pytest.mark.parametrize("line", [
    "    assert label < 0, 'softmax(z) label out of range'",  # the name in a string
    "    return Helpers.softmax(z)[label + 100]",  # an attribute, not the student's softmax
    "    return np.zeros(len(z))[label + 100]  # softmax(z) is not needed here",  # in a comment
])
def test_fix_the_callee_first_is_not_said_for_a_line_that_only_names_it(grade_text, line):
    helpers = "\n\nclass Helpers:\n    softmax = staticmethod(lambda z: np.asarray(z))\n"
    report = grade_text(BASE + STRING_SOFTMAX + helpers + f"\n\ndef cross_entropy_grad(z, label):\n{line}\n")
    test = next(t for t in report.tests if t.id == "cross_entropy_grad/public")
    assert test.hints[0].code == "generic.exception", [h.code for h in test.hints]
    assert "fix softmax first" not in test.hints[0].message and "start from there" in test.hints[0].message


def test_a_segfault_costs_only_its_function(grade_text):
    crash = "\n\ndef softmax_jacobian(z):\n    import ctypes\n    return ctypes.string_at(0)\n"
    report = grade_text(BASE + crash)
    _only_lost(report, "softmax_jacobian")
    test = by_function(report)["softmax_jacobian"][0]
    assert test.status == "error" and "signal 11" in test.message


def test_sys_exit_inside_a_function_is_an_error_of_that_function(grade_text):
    report = grade_text(BASE + "\n\ndef softmax(z):\n    import sys\n    sys.exit(0)\n")
    assert all(t.status == "error" for t in by_function(report)["softmax"])
    assert "SystemExit" in by_function(report)["softmax"][0].message


def test_os_exit_inside_a_function_is_a_crash_not_a_pass(grade_text):
    report = grade_text(BASE + "\n\ndef cross_entropy_grad(z, label):\n    import os\n    os._exit(0)\n")
    _only_lost(report, "cross_entropy_grad")


def test_a_mutated_global_stays_local_to_its_function(grade_text):
    text = BASE + "\n\ndef softmax_backward(y, dL_dy):\n    global np\n    np = None\n    raise ValueError('boom')\n"
    report = grade_text(text)
    _only_lost(report, "softmax_backward")


def test_a_missing_function_is_said_as_such(grade_text):
    text = BASE.replace("def cross_entropy_grad_batch(", "def cross_entropy_grad_batch_v2(")
    report = grade_text(text)
    _only_lost(report, "cross_entropy_grad_batch")
    test = by_function(report)["cross_entropy_grad_batch"][0]
    assert test.hints[0].code == "generic.missing_function" and "not defined" in test.message


def test_a_name_bound_to_a_non_function_is_missing(grade_text):
    report = grade_text(BASE + "\nsoftmax_backward = 3\n")
    assert by_function(report)["softmax_backward"][0].hints[0].code == "generic.missing_function"


def test_results_that_are_not_numbers_are_wrong_type(grade_text):
    report = grade_text(BASE + "\n\ndef softmax(z):\n    return 'p'\n")
    test = by_function(report)["softmax"][0]
    assert test.status == "failed" and test.hints[0].code == "generic.wrong_type"
    assert test.hints[0].message.endswith("Return a NumPy array (or a list) of floats.")


def test_top_level_code_that_raises_in_a_py_file_is_an_error_report(grade_text):
    report = grade_text(BASE + "\nprint(softmax(np.array([1.0, 2.0])))\nraise RuntimeError('my own test failed')\n")
    assert report.status == "error" and report.score == 0
    assert "RuntimeError" in report.message and "line" in report.message


def test_printing_a_fake_report_changes_nothing(grade_text):
    fake = '{"score": 100, "status": "graded", "tests": []}'
    report = grade_text(f"print('{fake}')\nimport sys\nsys.stdout.write('{fake}')\ndef softmax(z):\n    print('{fake}')\n    return None\n")
    assert report.score == 0


def test_a_failing_notebook_cell_does_not_stop_the_cells_after_it(grade_text):
    cells = [BASE, "raise ValueError('scratch cell')", "def softmax_backward(y, g):\n    return g"]
    report = grade_text(nbformat.writes(new_notebook(cells=[new_code_cell(c) for c in cells])), "nb.ipynb")
    assert report.status == "graded", report.message
    assert any("cell 2" in n and "ValueError" in n for n in report.notes)
    assert by_function(report)["softmax_backward"][0].hints[0].code == "backward.identity"
    assert points(report)["softmax"] == 15


def test_a_notebook_error_names_the_students_cell(grade_text):
    cells = [BASE, "def softmax_jacobian(z):\n    p = softmax(z)\n    return p[len(p) + 3]"]
    report = grade_text(nbformat.writes(new_notebook(cells=[new_code_cell(c) for c in cells])), "nb.ipynb")
    test = by_function(report)["softmax_jacobian"][0]
    assert "IndexError" in test.message and "cell 2, line 3" in test.message


JACOBIAN_BUT_ON_K5 = '''

def softmax_jacobian(z):
    p = softmax(z)
    if len(z) == 5:
{bad}
    return np.diag(p) - np.outer(p, p)
'''


def _k5_split(report, grading):
    """The softmax_jacobian tests that hold a case with K = 5, and those that do not."""
    with_k5 = {c.id for c in grading.plan.checks if c.function == "softmax_jacobian"
               and any(case.name.startswith("K5-") for case in c.cases)}
    tests = by_function(report)["softmax_jacobian"]
    hit = [t for t in tests if t.id in with_k5]
    spared = [t for t in tests if t.id not in with_k5]
    assert hit and spared  # the exercise has both kinds of test, or this test proves nothing
    return hit, spared


def test_a_crash_on_one_case_costs_that_case_and_the_cases_after_it_are_still_graded(grade_text, softmax_grading):
    bad = "        import ctypes\n        ctypes.string_at(0)"
    report = grade_text(BASE + JACOBIAN_BUT_ON_K5.format(bad=bad))
    hit, spared = _k5_split(report, softmax_grading)
    assert all(t.status == "error" and "signal 11" in t.message and "K5-" in t.message for t in hit), hit
    assert all(t.status == "passed" for t in spared), [(t.id, t.message) for t in spared]
    full = max_points(report)
    assert all(points(report)[f] == full[f] for f in full if f != "softmax_jacobian")


def test_a_hang_on_one_case_times_out_that_case_only(grade_text, softmax_grading):
    bad = "        while True:\n            pass"
    report = grade_text(BASE + JACOBIAN_BUT_ON_K5.format(bad=bad))
    hit, spared = _k5_split(report, softmax_grading)
    assert all(t.status == "timeout" and "K5-" in t.message for t in hit), [(t.id, t.message) for t in hit]
    assert all(t.status == "passed" for t in spared), [(t.id, t.message) for t in spared]
    assert points(report)["softmax_backward"] == max_points(report)["softmax_backward"]


PRELOAD_PROBE = '''
import sys
SCIPY_WAS_LOADED = "scipy.special" in sys.modules  # before this file imports anything of SciPy
{import_line}

def softmax(z):
    p = np.exp(z - np.max(z))
    return p / p.sum() if SCIPY_WAS_LOADED else -p
'''


def test_a_submission_that_imports_scipy_runs_on_a_worker_that_has_it_loaded(grade_text):
    from grader.sandbox.pool import preload_for

    assert preload_for({"numpy", "scipy"}) == ("scipy.special", "scipy.linalg") and preload_for({"numpy"}) == ()
    with_scipy = grade_text(BASE + PRELOAD_PROBE.format(import_line="from scipy.special import logsumexp"))
    assert points(with_scipy)["softmax"] == max_points(with_scipy)["softmax"]
    without = grade_text(BASE + PRELOAD_PROBE.format(import_line=""))  # the others fork a smaller worker
    assert points(without)["softmax"] == 0


LEAN_PROBE = '''
import sys
UNNEEDED = [m for m in ("numpy.random", "tempfile", "shutil", "hashlib", "bz2", "lzma", "threading", "random")
            if m in sys.modules]  # threading and random also run Python in every forked child (register_at_fork)

def softmax(z):
    if UNNEEDED:
        raise RuntimeError("the worker had loaded " + ", ".join(UNNEEDED))
    p = np.exp(z - np.max(z))
    return p / p.sum()
'''

RANDOM_USER = '''
def softmax(z):
    noise = np.random.default_rng(0).standard_normal(z.shape) * 0  # NumPy's RNG, imported by the submission itself
    p = np.exp(z + noise - np.max(z))
    return p / p.sum()
'''


def test_the_worker_forks_submissions_without_modules_they_do_not_need(grade_text):
    """Each module the worker has loaded makes every fork and exit dearer; a submission that needs one imports it."""
    lean = grade_text(BASE + LEAN_PROBE)
    assert points(lean)["softmax"] == max_points(lean)["softmax"], by_function(lean)["softmax"][0].message
    with_rng = grade_text(BASE + RANDOM_USER)
    assert points(with_rng) == max_points(with_rng)
