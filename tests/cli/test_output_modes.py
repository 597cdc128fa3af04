"""Every file the grader writes gets the mode any new file gets under the caller's umask (not mkstemp's 0600):
a class page published to a web server, or reports shared with the course's staff group, must be readable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tests.conftest import FIXTURES, ROOT


def _grader(umask: int, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, preexec_fn=lambda: os.umask(umask))


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_reports_pages_summaries_and_exports_follow_the_umask(tmp_path, umask, mode):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "ada.py").write_text((FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text())
    run = _grader(umask, "grade", str(subs), "-a", "softmax_gradients", "-o", str(out), "-j", "1")
    assert run.returncode == 0, run.stderr
    export = _grader(umask, "export", str(out), "--format", "canvas", "-o", str(tmp_path / "canvas.csv"))
    assert export.returncode == 0, export.stderr
    written = [out / "ada.json", out / "ada.html", out / "index.html", out / "summary.csv", out / "summary.json",
               tmp_path / "canvas.csv"]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {p.name: oct(mode) for p in written}
