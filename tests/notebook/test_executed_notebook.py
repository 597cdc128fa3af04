"""grader.check() in a real Jupyter kernel: notebooks executed by nbconvert, their outputs read back."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.conftest import ROOT

pytest.importorskip("ipykernel", reason="executing a notebook needs ipykernel (the test extra)")
from nbconvert.preprocessors import ExecutePreprocessor  # noqa: E402

CELLS = [
    "import numpy as np\n\ndef softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / e.sum()",
    "def softmax_jacobian(z):\n    p = softmax(z)\n    return np.diag(p*(1-p))",
    "from grader import check",
    'check("softmax")',
    'check("softmax_jacobian")',
    'check("softmax_backward")',
    'check("softmx")',
]


def execute(nb, folder) -> nbformat.NotebookNode:
    ExecutePreprocessor(timeout=120, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(folder)}})
    return nb


def shown(cell) -> dict[str, str]:
    """The rich output of a cell that ended in an expression: its HTML and its text."""
    results = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(results) == 1, cell.outputs
    return {"html": results[0].data.get("text/html", ""), "text": results[0].data["text/plain"]}


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return execute(nb, tmp_path_factory.mktemp("notebook"))


def test_a_right_function_shows_passed_and_no_hint(executed):
    out = shown(executed.cells[3])
    for view in out.values():
        assert "softmax/public" in view and "softmax/public-large" in view
        assert "hint" not in view and "FAIL" not in view
    assert "score 6 / 6: 2 of 2 public tests pass (sandbox: none)" in out["text"]
    assert '<span class="grader-passed"' in out["html"] and ">ok</span>" in out["html"]
    assert "<b>score 6 / 6</b>: 2 of 2 public tests pass (sandbox: none)" in out["html"]


def test_a_diagonal_only_jacobian_shows_failed_with_its_hint(executed):
    out = shown(executed.cells[4])
    message = "Only the diagonal of J is filled in, and it holds p_i(1 - p_i)"
    assert "FAIL  softmax_jacobian/public" in out["text"]
    assert "hint jacobian.diagonal_only (this mistake gives your output on all 3 cases)" in out["text"]
    assert message in " ".join(out["text"].split())
    assert '<span class="grader-failed" style="color:#cf222e;font-weight:bold">FAIL</span>' in out["html"]
    assert '<b class="grader-hint-code">jacobian.diagonal_only</b> (this mistake gives your output on all 3 cases)' in out["html"]
    assert message in out["html"]


def test_a_function_not_run_and_an_unknown_name_say_so(executed):
    missing = shown(executed.cells[5])
    assert "softmax_backward is not defined in this kernel" in missing["text"]
    assert "generic.missing_function" in missing["html"]
    unknown = shown(executed.cells[6])
    assert "'softmx' is not a function of softmax_gradients" in unknown["text"]
    assert "softmax_jacobian, softmax_backward" in unknown["html"]
    assert not any(o.output_type == "error" for cell in executed.cells for o in cell.outputs)


def test_the_templates_last_cell_checks_the_stubs(tmp_path):
    nb = nbformat.read(ROOT / "assignments" / "softmax_gradients" / "softmax_gradients.ipynb", as_version=4)
    assert nb.cells[-1].source == "from grader import check\n\ncheck()"
    out = shown(execute(nb, tmp_path).cells[-1])
    assert "not implemented yet (still the template's stub): softmax, softmax_jacobian" in " ".join(out["text"].split())
    assert "score 0 / 33: 0 of 8 public tests pass" in out["text"]
    assert "<b>not implemented yet</b>" in out["html"]
