"""A Canvas "Download Submissions" archive graded as it is: students from entry names, safely unpacked."""

from __future__ import annotations

import csv
import os
import io
import stat
import zipfile

from grader.authoring.templates import to_notebook
from grader.downloads.canvas import parse_name
from grader.report.model import Report
from tests.cli.test_cli import BASE, FIXTURES, MISTAKE, grader


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
        zf.writestr("._doejane_12345_1001_softmax_gradients.py", b"\x00\x05\x16\x07 macOS metadata")
        zf.writestr("__MACOSX/._smithbob_LATE_23456_1003_homework.ipynb", b"\x00\x05\x16\x07 macOS metadata")
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if not p.stem.startswith("summary")}
    assert sorted(reports) == ["anon_x7k2q", "bombbob", "doejane", "evil", "linky", "smithbob"]
    for name, file in (("evil", "escape.py"), ("linky", "passwd.py")):  # not unpacked, but never a student dropped
        assert reports[name].status == "error" and reports[name].score == 0
        assert reports[name].message == f"{file} was not unpacked (a link, or a path out of the archive: not a submitted file)"
    jane = reports["doejane"]
    assert jane.score == 80 and jane.submission.lms_id == "12345" and jane.submission.late is False
    assert jane.submission.path == "submissions.zip:doejane_12345_1002_softmax_gradients-1.py"
    assert ("graded doejane_12345_1002_softmax_gradients-1.py, ignored doejane_12345_1001_softmax_gradients.py"
            in jane.notes[0])
    bomb = reports["bombbob"]  # too large to unpack: in the gradebook all the same, saying why
    assert bomb.status == "error" and bomb.score == 0 and bomb.submission.lms_id == "56789"
    assert bomb.message == "big.py is larger than the 2 MB allowed once unpacked"
    assert "../../evil_34567_1005_escape.py: skipped (a link, or a path out of the archive" in run.stderr
    assert "linky_45678_1006_passwd.py: skipped" in run.stderr
    assert ("._doejane_12345_1001_softmax_gradients.py: skipped (a hidden file or macOS's metadata, not a submitted "
            "file), and 1 more like it") in run.stderr  # one line for them all
    bob = reports["smithbob"]
    assert bob.submission.late is True and bob.submission.kind == "ipynb" and bob.score == 100
    assert reports["anon_x7k2q"].submission.lms_id == "anon_x7k2q"
    assert not list(tmp_path.parent.glob("**/escape.py")) and not (tmp_path.parent / "evil_34567_1005_escape.py").exists()
    assert "root:" not in (out / "summary.csv").read_text()
    rows = {r["student"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert (rows["smithbob"]["late"], rows["smithbob"]["lms_id"], rows["smithbob"]["report"]) == ("yes", "23456", "smithbob.json")
    assert (rows["doejane"]["late"], rows["doejane"]["lms_id"]) == ("", "12345")


def test_a_corrupt_archive_is_refused_clearly(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 2 and "not a readable zip archive" in run.stderr


def test_no_student_of_a_canvas_zip_drops_out_of_the_gradebook_unnoticed(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pdfpat_11111_2001_answers.pdf", "%PDF-1.4")  # the wrong upload: no Python at all
        zf.writestr("caps_22222_2002_HW.PY", BASE)  # the extension in capitals
        zf.writestr("oneill_33333_2003_hw.py", "def softmax(z)\n    return z\n")
        zf.writestr("twice_44444_2004_notes.txt", "my notes")  # beside a submission: only listed
        zf.writestr("twice_44444_2005_softmax_gradients.py", BASE)
        zf.writestr("softmax_gradients.py", BASE)  # not named by Canvas: whose is it?
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if not p.stem.startswith("summary")}
    assert sorted(reports) == ["caps", "oneill", "pdfpat", "twice"]
    assert reports["pdfpat"].status == "error" and reports["pdfpat"].message == "answers.pdf is not a .py or .ipynb file"
    assert reports["caps"].score == 100
    # the student's own file name, not the name it was unpacked under
    assert reports["oneill"].message.startswith("hw.py, line 1: syntax error")
    assert reports["twice"].score == 100 and "ignored twice_44444_2004_notes.txt" in reports["twice"].notes[0]
    assert "softmax_gradients.py: skipped (not named as Canvas names submissions)" in run.stderr
    assert "4 submissions of softmax_gradients: 2 graded, 2 could not be graded" in run.stdout


def test_a_canvas_student_with_nothing_gradable_is_told_of_every_upload(tmp_path):
    archive = tmp_path / "submissions.zip"
    long_name = "作业" * 60 + ".py"  # 360 bytes: longer than a file name may be
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("amy_111_10_hw1.py", "# " + "0" * (3 * 1024 * 1024))  # too large, then a PDF of it
        zf.writestr("amy_111_11_report.pdf", "%PDF")
        zf.writestr(f"wei_222_12_{long_name}", BASE)
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    amy = Report.model_validate_json((out / "amy.json").read_text())
    assert amy.status == "error"
    assert amy.message == ("hw1.py is larger than the 2 MB allowed once unpacked; "
                           "report.pdf is not a .py or .ipynb file")
    assert amy.notes[0] == ("2 files were found for this student, none of which could be graded: "
                            "amy_111_10_hw1.py, amy_111_11_report.pdf")
    assert Report.model_validate_json((out / "wei.json").read_text()).score == 100


def test_names_of_any_script_and_entries_in_a_folder_are_read_and_a_plain_zip_is_told_what_to_do(tmp_path):
    archive = tmp_path / "rezipped.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("submissions/doejane_12345_1001_softmax_gradients.py", BASE)  # unzipped, then zipped again
        zf.writestr("müllerjürgen_23456_1002_softmax_gradients.py", BASE + MISTAKE)
        zf.writestr("obrien_pat_34567_1003_hw.py", BASE)  # an underscore kept in the sortable name
        zf.writestr("submissions/../../up_45678_1004_escape.py", BASE)
        zf.writestr("submissions/.ipynb_checkpoints/doejane_12345_1001_softmax_gradients-checkpoint.py", BASE + MISTAKE)
        zf.writestr("submissions/__MACOSX/doejane_12345_1001_softmax_gradients.py", b"\x00\x05\x16\x07")
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {r.submission.lms_id: r for r in (Report.model_validate_json(p.read_text()) for p in out.glob("*.json")
                                                if not p.stem.startswith("summary"))}
    assert sorted(reports) == ["12345", "23456", "34567", "45678"]
    assert reports["45678"].status == "error" and "escape.py was not unpacked" in reports["45678"].message
    assert (reports["12345"].student, reports["12345"].score) == ("doejane", 100)  # not its stale checkpoint
    assert not any("files were found" in n for n in reports["12345"].notes)
    assert ".ipynb_checkpoints/doejane_12345_1001_softmax_gradients-checkpoint.py: skipped" in run.stderr
    assert (reports["23456"].student, reports["23456"].score) == ("müllerjürgen", 80)
    assert reports["34567"].student == "obrien_pat"
    assert "up_45678_1004_escape.py: skipped (a link, or a path out of the archive" in run.stderr
    plain = tmp_path / "plain.zip"  # a zip of the students' own files: not Canvas's
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("alice.py", BASE)
        zf.writestr("bob.ipynb", to_notebook("# %%\n" + BASE))
    run = grader("grade", str(plain), "-a", "softmax_gradients", "-o", str(tmp_path / "out2"))
    assert run.returncode == 2 and "alice.py: skipped (not named as Canvas names submissions)" in run.stderr
    assert "unzip it and grade its folder" in run.stderr, run.stderr


def _zip_bytes(files: dict[str, str | bytes]) -> bytes:
    """A zip as a student makes one of their homework folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_a_student_who_uploaded_a_zip_is_graded_from_what_it_holds(tmp_path):
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doejane_12345_1001_hw3.zip", _zip_bytes({  # zipped on a Mac, with a README beside the code
            "hw3/softmax_gradients.py": BASE + MISTAKE, "hw3/README.md": "my notes",
            "__MACOSX/hw3/._softmax_gradients.py": b"\x00\x05\x16\x07", "../../../escape.py": "print('slip')\n"}))
        zf.writestr("smithbob_23456_1002_all.zip", _zip_bytes({  # two files: the one named after the assignment
            "scratch.py": "x = 1\n", "softmax_gradients.ipynb": to_notebook("# %%\n" + BASE)}))
        zf.writestr("pdfpat_34567_1003_hw.zip", _zip_bytes({"answers.pdf": b"%PDF-1.4"}))
        zf.writestr("broken_45678_1004_hw.zip", b"PK\x03\x04 not really a zip")
        zf.writestr("nested_56789_1005_hw.zip", _zip_bytes({"inner.zip": _zip_bytes({"softmax_gradients.py": BASE})}))
        zf.writestr("bomb_67890_1006_hw.zip", _zip_bytes({"softmax_gradients.py": "# " + "0" * (10 * 1024 * 1024)}))
        zf.writestr("plain_78901_1007_softmax_gradients.py", BASE)
        zf.writestr("mixed_89012_1008_hw.zip", _zip_bytes({"softmax_gradients.py": BASE, "data.py": "# " + "0" * (3 << 20)}))
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if not p.stem.startswith("summary")}
    assert sorted(reports) == ["bomb", "broken", "doejane", "mixed", "nested", "pdfpat", "plain", "smithbob"]
    assert reports["mixed"].score == 100 and ("graded mixed_89012_1008_hw.zip/softmax_gradients.py, ignored "
                                              "mixed_89012_1008_hw.zip/data.py (it is larger than the 2 MB allowed "
                                              "once unpacked)") in reports["mixed"].notes[0]
    jane = reports["doejane"]
    assert jane.score == 80 and jane.submission.lms_id == "12345"
    assert jane.submission.path == "submissions.zip:doejane_12345_1001_hw3.zip/hw3/softmax_gradients.py"
    assert not any("files were found" in note for note in jane.notes)  # the README and macOS's files are no choice
    bob = reports["smithbob"]
    assert bob.score == 100 and bob.submission.kind == "ipynb"
    assert ("graded smithbob_23456_1002_all.zip/softmax_gradients.ipynb, "
            "ignored smithbob_23456_1002_all.zip/scratch.py") in bob.notes[0]
    assert reports["pdfpat"].status == "error" and reports["pdfpat"].message == "hw.zip holds no .py or .ipynb file (only answers.pdf)"
    assert reports["broken"].status == "error" and reports["broken"].message.startswith("hw.zip is not a readable zip archive")
    assert reports["nested"].message == "hw.zip holds no .py or .ipynb file (only inner.zip)"  # one level deep, no more
    assert reports["bomb"].message == "softmax_gradients.py is larger than the 2 MB allowed once unpacked"
    assert reports["plain"].score == 100
    assert not any("escape" in note for report in reports.values() for note in report.notes)  # nobody's file
    assert "escape" not in run.stderr  # and no file of a student's: silently left in the zip


def test_a_students_folder_whose_python_is_in_a_zip_is_graded_from_the_zip(tmp_path):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "hw3.zip").write_bytes(_zip_bytes({"hw3/softmax_gradients.py": BASE + MISTAKE,
                                                                     "hw3/notes.txt": "mine"}))
    (tmp_path / "subs" / "alice" / "answers.pdf").write_text("%PDF")
    (tmp_path / "subs" / "bob").mkdir()
    (tmp_path / "subs" / "bob" / "softmax_gradients.py").write_text(BASE)
    (tmp_path / "subs" / "bob" / "old.zip").write_bytes(_zip_bytes({"softmax_gradients.py": "x = 1\n"}))  # his .py
    (tmp_path / "subs" / "carl").mkdir()  # a broken zip: said in his report
    (tmp_path / "subs" / "carl" / "hw3.zip").write_bytes(b"PK\x03\x04 not a zip")
    run = grader("grade", str(tmp_path / "subs"), "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in (tmp_path / "out").glob("*.json")
               if p.stem != "summary"}
    alice = reports["alice"]
    assert (alice.status, alice.score, alice.submission.lms_id, alice.submission.lms) == ("graded", 80, None, None)
    assert alice.submission.path == "subs/alice/hw3.zip/hw3/softmax_gradients.py"
    assert (reports["bob"].score, reports["bob"].submission.path) == (100, str(tmp_path / "subs" / "bob" / "softmax_gradients.py"))
    assert reports["carl"].status == "error" and "hw3.zip is not a readable zip archive" in reports["carl"].message


def _damaged(data: bytes, member: str) -> bytes:
    """``data`` (a zip) with the compressed bytes of ``member`` overwritten, as a broken download leaves them."""
    damaged = bytearray(data)
    start = damaged.find(member.encode()) + len(member) + 10
    damaged[start:start + 20] = b"\xff" * 20
    return bytes(damaged)


def _password_flagged(data: bytes) -> bytes:
    """``data`` (a zip of stored entries) with its first entry marked as protected by a password."""
    flagged = bytearray(data)
    flagged[6] |= 1  # the local header's flag
    central = flagged.rfind(b"PK\x01\x02")
    flagged[central + 8] |= 1  # and the central directory's
    return bytes(flagged)


def test_damaged_or_password_protected_entries_are_that_students_problem_alone(tmp_path):
    big = BASE * 3  # long enough to be compressed into bytes that can be damaged
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("softmax_gradients.py", BASE)
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("crc_111_1_hw.zip", _damaged(_zip_bytes({"softmax_gradients.py": big}), "softmax_gradients.py"))
        zf.writestr("locked_222_2_hw.zip", _password_flagged(stored.getvalue()))
        zf.writestr("fine_333_3_softmax_gradients.py", BASE)
    with zipfile.ZipFile(tmp_path / "deflated.zip", "w", zipfile.ZIP_DEFLATED) as zf:  # Canvas's own entry damaged
        zf.writestr("torn_444_4_softmax_gradients.py", big)
        zf.writestr("whole_555_5_softmax_gradients.py", BASE)
    torn = tmp_path / "torn.zip"
    torn.write_bytes(_damaged((tmp_path / "deflated.zip").read_bytes(), "torn_444_4_softmax_gradients.py"))
    for zipped, expected in ((archive, {"crc": "softmax_gradients.py could not be unpacked: it is damaged",
                                        "locked": "softmax_gradients.py could not be unpacked: it is protected by a password",
                                        "fine": None}),
                             (torn, {"torn": "softmax_gradients.py could not be unpacked: it is damaged",
                                     "whole": None})):
        out = tmp_path / f"out-{zipped.stem}"
        run = grader("grade", str(zipped), "-a", "softmax_gradients", "-o", str(out))
        assert run.returncode == 0, run.stderr
        for student, message in expected.items():
            report = Report.model_validate_json((out / f"{student}.json").read_text())
            if message is None:
                assert report.status == "graded" and report.score == 100
            else:
                assert report.status == "error" and report.score == 0 and report.message.startswith(message), report.message


def test_a_canvas_download_unzipped_into_a_folder_is_read_as_the_archive_is(tmp_path):
    download = tmp_path / "submissions"  # as a browser unzips the download by itself
    download.mkdir()
    (download / "doejane_12345_1001_softmax_gradients.py").write_text(BASE)
    (download / "leekim_LATE_23456_1002_softmax_gradients.py").write_text(BASE + MISTAKE)
    (download / "leekim_LATE_23456_1003_softmax_gradients-1.py").write_text(BASE)  # the later upload
    (download / "zipper_34567_1004_hw.zip").write_bytes(_zip_bytes({"hw/softmax_gradients.py": BASE}))
    (download / "pdfpat_45678_1005_answers.pdf").write_bytes(b"%PDF-1.4")
    (download / "stray_solution.py").write_text(BASE)  # the instructor's own file, dropped in: nobody's
    (download / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    out = tmp_path / "out"
    run = grader("grade", str(download), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if not p.stem.startswith("summary")}
    assert sorted(reports) == ["doejane", "leekim", "pdfpat", "zipper"]
    assert reports["doejane"].score == 100 and reports["doejane"].submission.lms_id == "12345"
    kim = reports["leekim"]
    assert kim.score == 100 and kim.submission.late is True and kim.submission.lms_id == "23456"
    assert kim.submission.path == "submissions/leekim_LATE_23456_1003_softmax_gradients-1.py"
    assert ("graded leekim_LATE_23456_1003_softmax_gradients-1.py, ignored leekim_LATE_23456_1002_softmax_gradients.py"
            in kim.notes[0])
    assert reports["zipper"].score == 100
    assert reports["pdfpat"].status == "error" and reports["pdfpat"].message == "answers.pdf is not a .py or .ipynb file"
    assert "stray_solution.py: skipped (not named as Canvas names submissions)" in run.stderr
    assert ".DS_Store" not in run.stderr
    assert (download / "doejane_12345_1001_softmax_gradients.py").read_text() == BASE  # graded where it lies


def test_a_canvas_user_in_two_downloads_is_one_student_graded_on_the_latest_upload(tmp_path):
    first, second = tmp_path / "monday.zip", tmp_path / "friday.zip"  # downloaded again after late uploads
    with zipfile.ZipFile(first, "w") as zf:
        zf.writestr("smithjohn_12345_1001_softmax_gradients.py", BASE + MISTAKE)
        zf.writestr("doejane_23456_1002_softmax_gradients.py", BASE)
    with zipfile.ZipFile(second, "w") as zf:
        zf.writestr("smithjohn_LATE_12345_1010_softmax_gradients.py", BASE)  # the same user, a later upload
        zf.writestr("smithjohn_99999_1011_softmax_gradients.py", BASE + MISTAKE)  # another student of that name
    out = tmp_path / "out"
    run = grader("grade", str(first), str(second), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {r.submission.lms_id: r for r in (Report.model_validate_json(p.read_text()) for p in out.glob("*.json")
                                                if not p.stem.startswith("summary"))}
    assert sorted(reports) == ["12345", "23456", "99999"]
    john = reports["12345"]
    assert john.score == 100 and john.submission.late is True
    assert john.submission.path == "friday.zip:smithjohn_LATE_12345_1010_softmax_gradients.py"
    assert ("graded friday.zip:smithjohn_LATE_12345_1010_softmax_gradients.py, "
            "ignored monday.zip:smithjohn_12345_1001_softmax_gradients.py") in john.notes[0]
    assert {reports["12345"].student, reports["99999"].student} == {"smithjohn (12345)", "smithjohn (99999)"}
    assert reports["99999"].score == 80 and reports["23456"].score == 100
    assert "PATHs" not in run.stderr  # one student, not one per download
    export = tmp_path / "canvas.csv"
    assert grader("export", str(out), "--format", "canvas", "-o", str(export)).returncode == 0
    rows = {r["ID"]: r for r in csv.DictReader(export.open()) if r["ID"]}
    assert {r["Student"] for r in rows.values()} >= {"smithjohn (12345)", "smithjohn (99999)"}


def test_names_zipped_in_utf8_without_saying_so_are_read_as_utf8(tmp_path):
    archive = tmp_path / "rezipped.zip"  # Info-ZIP on Linux writes UTF-8 names without the flag that says so
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("mXXllerjXXrgen_23456_1002_softmax_gradients.py", BASE)
        zf.writestr("hw_45678_1003_hw.zip", _zip_bytes({"hw/softmax_gradients.py": BASE}))
    raw = archive.read_bytes().replace(b"mXXllerjXXrgen", "müllerjürgen".encode())  # the same length in bytes
    archive.write_bytes(raw)
    with zipfile.ZipFile(archive) as zf:
        assert "müllerjürgen" not in zf.namelist()[0]  # what zipfile makes of it: cp437
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {r.submission.lms_id: r for r in (Report.model_validate_json(p.read_text()) for p in out.glob("*.json")
                                                if not p.stem.startswith("summary"))}
    assert reports["23456"].student == "müllerjürgen" and reports["23456"].score == 100
    assert reports["45678"].score == 100
    assert "skipped" not in run.stderr


def test_a_canvas_folder_keeps_being_read_as_one_with_its_reports_inside_and_its_students_unzipped_folders(tmp_path):
    download = tmp_path / "dl"
    download.mkdir()
    (download / "ann_111_1_softmax_gradients.py").write_text(BASE)
    (download / "bob_LATE_222_2_softmax_gradients.py").write_text(BASE + MISTAKE)
    finder = download / "cat_333_3_hw3"  # cat's zip, unzipped by the browser too: a folder with Canvas's name
    (finder / "hw3" / "backup").mkdir(parents=True)
    (finder / "hw3" / "softmax_gradients.py").write_text(BASE)
    (finder / "hw3" / "backup" / "softmax_gradients.py").write_text(BASE + MISTAKE)
    (finder / "hw3" / "notes.md").write_text("notes")
    os.mkfifo(download / "dan_444_4_softmax_gradients.py.fifo")
    os.symlink("/etc/passwd", download / "eve_555_5_softmax_gradients.py")
    out = download / "reports"  # OUTDIR inside the download: its files are no students'
    for attempt in (1, 2):
        run = grader("grade", str(download), "-a", "softmax_gradients", "-o", str(out))
        assert run.returncode == 0, run.stderr
        reports = {r.submission.lms_id: r for r in (Report.model_validate_json(p.read_text())
                                                    for p in out.glob("*.json") if not p.stem.startswith("summary"))}
        assert sorted(reports) == ["111", "222", "333", "444", "555"], (attempt, sorted(reports))
        assert reports["222"].submission.late is True and reports["222"].score == 80
        cat = reports["333"]
        assert cat.score == 100 and cat.submission.path == "dl/cat_333_3_hw3/hw3/softmax_gradients.py"
        assert "ignored cat_333_3_hw3/hw3/backup/softmax_gradients.py" in cat.notes[0]
        assert reports["444"].status == "error" and reports["555"].status == "error"
        assert "root:" not in reports["555"].model_dump_json()
        assert "stray" not in run.stderr and "of no submission" not in run.stderr


def test_one_students_huge_upload_is_their_problem_alone(tmp_path):
    many = _zip_bytes({f"f{i}.txt": "x" for i in range(1200)})
    big = io.BytesIO()  # 40 files of 2 MB of zeros each: 80 MB unpacked from a zip of some 100 kB
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("softmax_gradients.py", BASE)
        for i in range(40):
            zf.writestr(f"pad{i:02d}.py", "#" * (2 * 1024 * 1024 - 100))
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("many_111_1_hw.zip", many)
        zf.writestr("big_222_2_hw.zip", big.getvalue())
        zf.writestr("fine_333_3_softmax_gradients.py", BASE)
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if not p.stem.startswith("summary")}
    assert reports["many"].status == "error" and reports["many"].message == "hw.zip holds more than 1000 files, more than a submission may"
    assert reports["big"].score == 100  # its own file graded; what is past its share not unpacked, and said so
    assert "unpacks to more than the 64 MB a submission may" in reports["big"].notes[0]
    assert reports["fine"].score == 100


def test_the_latest_download_of_a_student_is_graded_whatever_its_file_is_named(tmp_path):
    monday, friday = tmp_path / "mon.zip", tmp_path / "fri.zip"
    with zipfile.ZipFile(monday, "w") as zf:
        zf.writestr("smithjohn_12345_1001_softmax_gradients.py", BASE + MISTAKE)
    with zipfile.ZipFile(friday, "w") as zf:
        zf.writestr("smithjohn_LATE_12345_1010_hw3_fixed.py", BASE)
    out = tmp_path / "out"
    run = grader("grade", str(monday), str(friday), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    report = Report.model_validate_json((out / "smithjohn.json").read_text())
    assert report.score == 100 and report.submission.late is True
    assert report.submission.path == "fri.zip:smithjohn_LATE_12345_1010_hw3_fixed.py"


def test_a_later_download_of_another_assignment_does_not_take_the_place_of_this_ones(tmp_path):
    rnn = (FIXTURES / "rnn_bptt" / "right" / "vectorised.py").read_text()
    softmax, rnn_zip = tmp_path / "softmax.zip", tmp_path / "rnn.zip"  # graded together: ~/Downloads/*.zip
    with zipfile.ZipFile(softmax, "w") as zf:
        zf.writestr("smithjohn_12345_1001_softmax_gradients.py", BASE)
        zf.writestr("doejane_23456_1002_softmax_gradients.py", BASE + MISTAKE)
    with zipfile.ZipFile(rnn_zip, "w") as zf:  # the next week's homework: later uploads of the same students
        zf.writestr("smithjohn_12345_2001_rnn_bptt.py", rnn)
        zf.writestr("doejane_23456_2002_rnn_bptt.py", rnn)
    out = tmp_path / "out"
    run = grader("grade", str(softmax), str(rnn_zip), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    john = Report.model_validate_json((out / "smithjohn.json").read_text())
    assert john.score == 100 and john.submission.path == "softmax.zip:smithjohn_12345_1001_softmax_gradients.py"
    assert "ignored rnn.zip:smithjohn_12345_2001_rnn_bptt.py" in john.notes[0]
    assert Report.model_validate_json((out / "doejane.json").read_text()).score == 80
    # a later download of this assignment still wins, as before
    again = tmp_path / "softmax-again.zip"
    with zipfile.ZipFile(again, "w") as zf:
        zf.writestr("doejane_LATE_23456_3002_softmax_gradients.py", BASE)
    run = grader("grade", str(softmax), str(rnn_zip), str(again), "-a", "softmax_gradients", "-o", str(tmp_path / "o2"))
    assert run.returncode == 0, run.stderr
    assert Report.model_validate_json((tmp_path / "o2" / "doejane.json").read_text()).score == 100
    # without -a too: the batch is the assignment most of the files are (a third student handed in softmax only)
    with zipfile.ZipFile(softmax, "a") as zf:
        zf.writestr("leeann_34567_1003_softmax_gradients.py", BASE)
    run = grader("grade", str(softmax), str(rnn_zip), "-o", str(tmp_path / "o3"))
    assert run.returncode == 0, run.stderr
    john = Report.model_validate_json((tmp_path / "o3" / "smithjohn.json").read_text())
    assert john.assignment == "softmax_gradients" and john.score == 100
    assert john.submission.path == "softmax.zip:smithjohn_12345_1001_softmax_gradients.py"


def test_a_folder_half_named_as_canvas_names_is_read_as_files_with_a_warning(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ann_111_1_hw.py", "bob_222_2_hw.py", "cal.py", "dan.py", "eve.py"):
        (subs / name).write_text(BASE)
    run = grader("grade", str(subs), "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert "holds 2 files named as Canvas names submissions, but 3 that are not" in " ".join(run.stderr.split())
    assert (tmp_path / "out" / "cal.json").exists() and (tmp_path / "out" / "ann_111_1_hw.json").exists()
