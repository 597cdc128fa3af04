"""nbconvert (a second of imports) is loaded only once a notebook is read: `grader check x.py` does not pay it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import sys
from pathlib import Path
from grader import api, cli  # everything `grader check` imports
from grader.source import read_submission
read_submission(Path(sys.argv[1]))
print("nbconvert" in sys.modules)
"""


def _loads_nbconvert(path) -> bool:
    run = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip() == "True"


def test_a_py_file_is_read_without_nbconvert_and_a_notebook_with_it(tmp_path):
    py = ROOT / "tests" / "fixtures" / "softmax_gradients" / "right" / "vectorised.py"
    assert not _loads_nbconvert(py)
    notebook = ROOT / "assignments" / "softmax_gradients" / "softmax_gradients.ipynb"
    assert _loads_nbconvert(notebook)
