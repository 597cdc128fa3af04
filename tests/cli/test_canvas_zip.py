"""A Canvas "Download Submissions" archive graded as it is: students from entry names, safely unpacked."""

from __future__ import annotations

import stat
import zipfile

from grader.authoring.templates import to_notebook
from grader.canvas_zip import parse_name
from grader.report.model import Report
from tests.cli.test_cli import BASE, MISTAKE, grader


def test_canvas_entry_names_are_parsed():
    assert parse_name("doejane_12345_67890_softmax_gradients.py") == {
        "student": "doejane", "user_id": "12345", "late": False, "attachment": "67890", "original": "softmax_gradients.py"}
    late = parse_name("doejane_LATE_12345_67890_my_hw-2.ipynb")
    assert late["late"] and late["original"] == "my_hw-2.ipynb" and late["user_id"] == "12345"
    assert parse_name("anon_x7k2q_555_hw.py")["student"] == "anon_x7k2q"
    assert parse_name("readme.py") is None


def test_a_canvas_zip_is_graded_safely(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doejane_12345_1001_softmax_gradients.py", BASE)
        zf.writestr("doejane_12345_1002_softmax_gradients-1.py", BASE + MISTAKE)  # a later upload: graded
        zf.writestr("smithbob_LATE_23456_1003_homework.ipynb", to_notebook("# %%\n" + BASE))
        zf.writestr("anon_x7k2q_1004_softmax_gradients.py", BASE)
        zf.writestr("../../evil_34567_1005_escape.py", "print('zip slip')\n")
        link = zipfile.ZipInfo("linky_45678_1006_passwd.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("bombbob_56789_1007_big.py", "# " + "0" * (10 * 1024 * 1024) + "\n")
        zf.writestr("readme.txt", "not a submission")
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if not p.stem.startswith("summary")}
    assert sorted(reports) == ["anon_x7k2q", "doejane", "smithbob"]
    jane = reports["doejane"]
    assert jane.score == 80 and jane.submission.lms_id == "12345" and jane.submission.late is False
    assert jane.submission.path == "submissions.zip:doejane_12345_1002_softmax_gradients-1.py"
    assert "ignored softmax_gradients.py" in jane.notes[0]
    bob = reports["smithbob"]
    assert bob.submission.late is True and bob.submission.kind == "ipynb" and bob.score == 100
    assert reports["anon_x7k2q"].submission.lms_id == "anon_x7k2q"
    assert not list(tmp_path.parent.glob("**/escape.py")) and not (tmp_path.parent / "evil_34567_1005_escape.py").exists()
    assert "root:" not in (out / "summary.csv").read_text()


def test_a_corrupt_archive_is_refused_clearly(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 2 and "not a readable zip archive" in run.stderr
