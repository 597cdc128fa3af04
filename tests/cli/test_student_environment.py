"""What a submission may import, and what Jupyter leaves in a notebook exported to .py."""

from __future__ import annotations

import json

from grader.authoring.templates import to_notebook
from grader.batch import reusable
from grader.report.model import Report
from tests.cli.test_cli import BASE, grader

PLOTTING = """
import matplotlib.pyplot as plt

losses = [softmax(np.array([1.0, 2.0, float(k)]))[0] for k in range(5)]
fig, ax = plt.subplots()
ax.plot(losses)
n, bins, patches = plt.hist(losses)
plt.show()
"""


def _reports(out) -> dict[str, Report]:
    return {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


def test_a_package_the_grader_lacks_is_named_to_the_student_and_counted_for_the_instructor(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "pat.py").write_text("import pandas as pd\n" + BASE)  # stops the .py at its first line
    (subs / "nat.ipynb").write_text(to_notebook("# %%\nimport pandas as pd\n# %%\n" + BASE))  # loses one cell
    (subs / "ok.py").write_text(BASE)
    (subs / "typo.py").write_text("import nmupy\n" + BASE)  # not a package anyone has: said all the same
    (subs / "two.ipynb").write_text(to_notebook("# %%\nimport pandas\n# %%\nimport nmupy\n# %%\n" + BASE))
    (subs / "forger.py").write_text(BASE + "\nraise RuntimeError(\"evilpkg is not installed where the grader runs\")\n")
    (subs / "raiser.py").write_text(BASE + "\nraise ModuleNotFoundError(\"No module named 'evilpkg'\")\n")
    out = tmp_path / "out"
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = _reports(out)
    pat = reports["pat"]
    assert pat.status == "error" and pat.score == 0
    assert pat.message.startswith("the submission's top-level code raised ModuleNotFoundError: No module named 'pandas' "
                                  "(pat.py, line 1: `import pandas as pd`): pandas is not installed where the grader runs")
    assert 'put that code under `if __name__ == "__main__":`' in pat.message
    nat = reports["nat"]
    assert nat.status == "graded" and nat.score == 100
    assert any("pandas is not installed where the grader runs" in note for note in nat.notes)
    assert not any("not installed" in note for note in reports["ok"].notes) and reports["ok"].score == 100
    assert "nmupy is not installed where the grader runs" in reports["typo"].message
    assert (pat.missing_packages, nat.missing_packages, reports["two"].missing_packages) == (
        ["pandas"], ["pandas"], ["nmupy", "pandas"])
    for student in ("ok", "forger", "raiser"):  # what the student's own exception says is not taken for a package
        assert reports[student].missing_packages == [], student
    assert "not installed where the grader runs" not in reports["raiser"].message
    warning = " ".join(run.stderr.split())
    assert "4 submissions import modules that this grader's Python" in warning
    assert "does not have (pandas in 3, nmupy in 2)" in warning and "evilpkg" not in warning
    assert "pip install" not in warning  # no command made of names a student chose


def test_a_report_of_a_missing_package_is_graded_again_once_the_package_is_installed(tmp_path, monkeypatch):
    from grader import api, batch
    from grader.source import read_submission
    from grader.submissions import Submission

    path = tmp_path / "pat.py"
    path.write_text("import pandas as pd\n" + BASE)
    out = tmp_path / "out"
    api.grade([path], assignment="softmax_gradients", out_dir=out, jobs=1)
    found = Submission("pat", path)
    grading = api.prepare(api._resolve("softmax_gradients", None), None, api.Limits(), api.default_launcher())
    source = read_submission(path)
    assert reusable(out / "pat.json", source, found, grading) is not None  # still missing: kept
    monkeypatch.setattr(batch, "installed", lambda package: package == "pandas")
    assert reusable(out / "pat.json", source, found, grading) is None  # installed since: graded again


def test_plots_drawn_with_matplotlib_do_not_stop_the_grading(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "py.py").write_text(BASE + PLOTTING)
    (subs / "nb.ipynb").write_text(to_notebook("# %%\n%matplotlib inline\n# %%\n" + BASE + "\n# %%\n" + PLOTTING))
    out = tmp_path / "out"
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = _reports(out)
    assert reports["py"].status == "graded" and reports["py"].score == 100, reports["py"].message
    assert reports["nb"].score == 100 and not any("raised" in note for note in reports["nb"].notes), reports["nb"].notes
    assert "does not have" not in run.stderr


def test_a_notebook_downloaded_as_py_runs_without_its_ipython_commands(tmp_path):
    exported = "\n".join([
        "#!/usr/bin/env python", "# coding: utf-8", "", "# In[1]:", "", "",
        "import numpy as np",
        "get_ipython().run_line_magic('matplotlib', 'inline')",
        "get_ipython().system('pip install numpy')",
        "files = get_ipython().getoutput('ls')",
        "", "", "# In[2]:", "", "",
        "get_ipython().run_cell_magic('time', '', " + json.dumps("%matplotlib inline\nlisting = !ls\nnp.exp?\n" + BASE.split("\n\n\n")[1] + "\n") + ")",
        "assert files is None",
        "", "", "# In[3]:", "", "",
        "\n\n\n".join(BASE.split("\n\n\n")[2:]),
    ])
    assert "def softmax(" in exported and exported.count("def softmax(") == 1
    path = tmp_path / "softmax_gradients.py"
    path.write_text(exported)
    run = grader("check", str(path), "-a", "softmax_gradients")
    assert run.returncode == 0, run.stdout + run.stderr
    text = " ".join(run.stdout.split())
    assert all(f"line {n}: IPython command dropped" in text for n in (8, 9, 10))
    assert "line 16: the IPython cell magic of Jupyter's export was dropped; its body was run as Python" in text
    assert "score 33 / 33" in text
    plain = tmp_path / "plain.py"
    plain.write_text(BASE)
    assert "IPython" not in grader("check", str(plain), "-a", "softmax_gradients").stdout
