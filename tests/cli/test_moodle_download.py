"""Moodle's "Download all submissions" graded as it is: students from its folders' names, safely unpacked."""

from __future__ import annotations

import csv
import io
import zipfile

from grader.downloads.moodle import parse_name
from grader.report.model import Report
from tests.cli.test_cli import BASE, MISTAKE, grader

WRONG = BASE + MISTAKE  # scores 80: the Jacobian's off-diagonal terms left out


def _reports(out) -> dict[str, Report]:
    return {p.stem: Report.model_validate_json(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


def _zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def test_moodle_entry_names_are_parsed():
    assert parse_name("Jane Doe_4242_assignsubmission_file/src/softmax.py") == {
        "student": "Jane Doe", "user_id": "4242", "late": None, "original": "softmax.py", "inside": "src/softmax.py"}
    flat = parse_name("Jane Doe_4242_assignsubmission_file_softmax.py")  # "download submissions in folders" off
    assert (flat["student"], flat["user_id"], flat["original"], flat["inside"]) == ("Jane Doe", "4242", "softmax.py", "")
    assert parse_name("Jane Doe_4242_assignsubmission_file_/hw.py")["original"] == "hw.py"  # Moodle 3.x's folders
    assert parse_name("Jane Doe_4242_assignsubmission_file/")["inside"] == ""  # the student's folder itself
    team = parse_name("Default group_assignsubmission_file/hw.py")  # a team submission outside any group: no id
    assert (team["student"], team["user_id"]) == ("Default group", "Default group")
    assert parse_name("download/Jane Doe_4242_assignsubmission_file/hw.py")["student"] == "Jane Doe"  # zipped again
    assert parse_name("doejane_12345_67890_softmax_gradients.py") is None  # Canvas's
    assert parse_name("Jane Doe_4242_assignsubmission_file_") is None  # a folder's name on a file
    assert parse_name("softmax.py") is None


def test_a_moodle_zip_is_graded_from_each_students_folder(tmp_path):
    archive = tmp_path / "DL101-Softmax homework-77.zip"
    archive.write_bytes(_zip_of({
        "Jane Doe_4242_assignsubmission_file/softmax_gradients.py": WRONG,
        "Jane Doe_4242_assignsubmission_file/backup/softmax_gradients.py": BASE,  # kept aside: not graded
        "Jane Doe_4242_assignsubmission_onlinetext/onlinetext.html": "<p>see my file</p>",
        "Bob Li_4243_assignsubmission_file_/homework.py": BASE,  # Moodle 3.x
        "Ann Ok_4244_assignsubmission_file/answers.pdf": "%PDF-1.4",
        "Sam Wu_4245_assignsubmission_file/hw.zip": _zip_of({"hw/softmax.py": BASE, "hw/README.md": "mine"}),
        "John Smith_4246_assignsubmission_file/hw.py": BASE,  # two students of one name
        "John Smith_4247_assignsubmission_file/hw.py": WRONG,
        "../../Eve Evil_4248_assignsubmission_file/escape.py": "print('zip slip')\n",
        "Kim Lo_4249_assignsubmission_file/": "",  # a folder with nothing in it: Kim submitted nothing
        "Lea Fox_4250_assignsubmission_onlinetext/onlinetext.html": "<p>def softmax(z): ...</p>",  # typed, no file
        "__MACOSX/Kim Lo_4249_assignsubmission_file/._notes.py": "\x00\x05\x16\x07",
        "__MACOSX/Bob Li_4243_assignsubmission_file_/._homework.py": "\x00\x05\x16\x07",
        "grades.py": BASE,  # no student's
    }))
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = _reports(out)
    assert sorted(reports) == ["Ann_Ok", "Bob_Li", "Eve_Evil", "Jane_Doe", "John_Smith_4246", "John_Smith_4247",
                               "Kim_Lo", "Lea_Fox", "Sam_Wu"]
    assert reports["Lea_Fox"].message == ("onlinetext.html is the text typed in Moodle's online text box, "
                                          "not an uploaded .py or .ipynb file")
    assert reports["Kim_Lo"].message == "Kim Lo_4249_assignsubmission_file holds no .py or .ipynb file (it is empty)"
    assert reports["Eve_Evil"].message.startswith("escape.py was not unpacked (a link, or a path out of the archive")
    jane = reports["Jane_Doe"]
    assert (jane.student, jane.submission.lms_id, jane.submission.late, jane.score) == ("Jane Doe", "4242", None, 80)
    assert jane.submission.path == f"{archive.name}:Jane Doe_4242_assignsubmission_file/softmax_gradients.py"
    assert "ignored Jane Doe_4242_assignsubmission_file/backup/softmax_gradients.py" in jane.notes[0]
    assert "onlinetext.html (it is the text typed in Moodle's online text box, not an uploaded .py" in jane.notes[0]
    assert (reports["Bob_Li"].student, reports["Bob_Li"].score) == ("Bob Li", 100)
    ann = reports["Ann_Ok"]  # in the gradebook all the same, saying why
    assert (ann.status, ann.score, ann.message) == ("error", 0, "answers.pdf is not a .py or .ipynb file")
    sam = reports["Sam_Wu"]  # a zip of their own, opened in memory
    assert sam.score == 100 and sam.submission.path.endswith("Sam Wu_4245_assignsubmission_file/hw.zip/hw/softmax.py")
    assert (reports["John_Smith_4246"].score, reports["John_Smith_4247"].score) == (100, 80)
    assert reports["John_Smith_4247"].student == "John Smith (4247)"
    assert not list(tmp_path.parent.glob("**/escape.py"))
    assert "grades.py: skipped (not named as Moodle names submissions)" in run.stderr
    rows = {r["student"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert (rows["Jane Doe"]["lms_id"], rows["Jane Doe"]["late"], rows["Jane Doe"]["score"]) == ("4242", "", "80")


def test_a_moodle_download_unzipped_is_read_as_the_zip_is_and_resumed(tmp_path):
    download = tmp_path / "DL101-Softmax homework-77"
    (download / "Jane Doe_4242_assignsubmission_file" / "src").mkdir(parents=True)
    (download / "Jane Doe_4242_assignsubmission_file" / "src" / "softmax.py").write_text(WRONG)
    (download / "Sam Wu_4245_assignsubmission_file").mkdir()
    (download / "Sam Wu_4245_assignsubmission_file" / "hw.zip").write_bytes(_zip_of({"softmax.py": BASE}))
    (download / "Bob Li_4243_assignsubmission_file_homework.py").write_text(BASE)  # flat, beside the folders
    (download / "Bob Li_4243_assignsubmission_file_notes.py").write_text("x = 1\n")  # the same student's
    (download / "Lea Fox_4250_assignsubmission_onlinetext_onlinetext.html").write_text("<p>typed in</p>")
    out = download / "reports"  # an OUTDIR inside it: not a student
    run = grader("grade", str(download), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = _reports(out)
    assert {name: (r.student, r.submission.lms_id, r.score) for name, r in reports.items()} == {
        "Bob_Li": ("Bob Li", "4243", 100), "Jane_Doe": ("Jane Doe", "4242", 80), "Sam_Wu": ("Sam Wu", "4245", 100),
        "Lea_Fox": ("Lea Fox", "4250", 0)}
    assert "Moodle's online text box" in reports["Lea_Fox"].message
    assert reports["Bob_Li"].submission.path.endswith("Bob Li_4243_assignsubmission_file_homework.py")
    assert "ignored Bob Li_4243_assignsubmission_file_notes.py" in reports["Bob_Li"].notes[0]
    again = grader("grade", str(download), "-a", "softmax_gradients", "-o", str(out))
    assert again.returncode == 0 and "4 up to date from an earlier run" in again.stdout + again.stderr


def test_a_moodle_students_broken_upload_is_their_problem_alone(tmp_path):
    download = tmp_path / "moodle"
    (download / "Jane Doe_4242_assignsubmission_file").mkdir(parents=True)
    (download / "Jane Doe_4242_assignsubmission_file" / "hw.zip").write_bytes(b"PK\x03\x04 not a zip at all")
    (download / "Bob Li_4243_assignsubmission_file").mkdir()
    (download / "Bob Li_4243_assignsubmission_file" / "softmax.py").write_text(BASE)
    (download / "Ann Ok_4244_assignsubmission_file").mkdir()  # a student's folder left empty
    run = grader("grade", str(download), "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    reports = _reports(tmp_path / "out")
    assert reports["Bob_Li"].score == 100
    assert reports["Jane_Doe"].status == "error" and "hw.zip is not a readable zip archive" in reports["Jane_Doe"].message
    assert reports["Ann_Ok"].status == "error" and "holds no .py or .ipynb file (it is empty)" in reports["Ann_Ok"].message


def test_a_moodle_participant_in_two_downloads_is_graded_from_their_newest_file(tmp_path):
    def download(name: str, year: int, text: str) -> str:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(zipfile.ZipInfo("Jane Doe_4242_assignsubmission_file/softmax.py", (year, 3, 1, 12, 0, 0)), text)
        return str(path)

    first, second = download("first.zip", 2025, WRONG), download("second.zip", 2026, BASE)  # the second is newer
    run = grader("grade", first, second, "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    jane = _reports(tmp_path / "out")["Jane_Doe"]
    assert jane.score == 100 and jane.submission.path.startswith("second.zip:")
    assert "ignored first.zip:Jane Doe_4242_assignsubmission_file/softmax.py" in jane.notes[0]


def test_a_late_download_graded_into_the_class_folder_replaces_no_other_students_report(tmp_path):
    out = tmp_path / "out"
    first = tmp_path / "class.zip"
    first.write_bytes(_zip_of({"O Brien Pat_2_assignsubmission_file/hw.py": WRONG,
                               "王小明_5_assignsubmission_file/hw.py": BASE,
                               "Jose\u0301 Mu\u0308ller_6_assignsubmission_file/hw.py": BASE}))  # as macOS writes é, ü
    assert grader("grade", str(first), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    assert {p.stem for p in out.glob("*.json")} == {"O_Brien_Pat", "王小明", "José_Müller", "summary"}
    assert _reports(out)["José_Müller"].student == "José Müller"  # one form of é, whatever the archive's
    late = tmp_path / "late.zip"  # another student whose name makes the same file name
    late.write_bytes(_zip_of({"O'Brien Pat_3_assignsubmission_file/hw.py": BASE}))
    run = grader("grade", str(late), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = _reports(out)
    assert (reports["O_Brien_Pat"].student, reports["O_Brien_Pat"].score) == ("O Brien Pat", 80)  # as it was
    assert (reports["O_Brien_Pat-2"].student, reports["O_Brien_Pat-2"].score) == ("O'Brien Pat", 100)
    again = grader("grade", str(first), "-a", "softmax_gradients", "-o", str(out))  # the class again: the same names
    assert again.returncode == 0 and "3 up to date from an earlier run" in again.stdout + again.stderr


def test_a_blind_marked_download_then_the_named_one_leaves_one_report_per_student_in_use(tmp_path):
    out, blind, named = tmp_path / "out", tmp_path / "blind.zip", tmp_path / "named.zip"
    blind.write_bytes(_zip_of({"Participant_105_assignsubmission_file/hw.py": WRONG}))
    named.write_bytes(_zip_of({"Ann Lee_105_assignsubmission_file/hw.py": BASE}))
    assert grader("grade", str(blind), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    run = grader("grade", str(named), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert "Participant.json (by Ann_Lee.json)" in run.stderr and "remove the older one" in run.stderr
    export = tmp_path / "grades.csv"
    run = grader("export", str(out), "--format", "canvas", "-o", str(export))
    assert run.returncode == 0, run.stderr
    rows = [r for r in csv.DictReader(export.open()) if r["Student"] != "Points Possible"]
    assert [(r["Student"], r["ID"], r["Softmax gradients"]) for r in rows] == [("Ann Lee", "", "100")]  # not Canvas's id
    assert "graded from another LMS's download (1 of Moodle's)" in run.stderr
    assert "Participant.json (by Ann_Lee.json)" in run.stderr


def test_a_student_of_a_classmates_name_graded_later_gets_a_report_of_their_own(tmp_path):
    out = tmp_path / "out"
    first, late = tmp_path / "first.zip", tmp_path / "late.zip"
    first.write_bytes(_zip_of({"John Smith_4246_assignsubmission_file/hw.py": BASE}))
    late.write_bytes(_zip_of({"John Smith_4247_assignsubmission_file/hw.py": WRONG}))  # another John Smith
    assert grader("grade", str(first), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    assert grader("grade", str(late), "-a", "softmax_gradients", "-o", str(out)).returncode == 0
    reports = _reports(out)
    assert {name: (r.submission.lms_id, r.score) for name, r in reports.items()} == {
        "John_Smith": ("4246", 100), "John_Smith-2": ("4247", 80)}


def test_one_id_in_a_canvas_and_a_moodle_download_is_two_students(tmp_path):
    canvas, moodle = tmp_path / "canvas.zip", tmp_path / "moodle.zip"
    canvas.write_bytes(_zip_of({"smithjohn_4242_1001_hw.py": BASE}))
    moodle.write_bytes(_zip_of({"Jane Doe_4242_assignsubmission_file/hw.py": WRONG}))
    run = grader("grade", str(canvas), str(moodle), "-a", "softmax_gradients", "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    reports = _reports(tmp_path / "out")
    assert {(r.student, r.submission.lms, r.score) for r in reports.values()} == {
        ("smithjohn", "canvas", 100), ("Jane Doe", "moodle", 80)}


def test_long_names_hidden_files_and_folders_of_no_student_are_handled_as_in_the_zip(tmp_path):
    long_name = "王" * 120  # 360 bytes in UTF-8: more than a file name may have
    archive = tmp_path / "moodle.zip"
    archive.write_bytes(_zip_of({
        f"{long_name}_1_assignsubmission_file/hw.py": BASE,
        "Jane Doe_2_assignsubmission_file/.ipynb_checkpoints/hw-checkpoint.py": BASE,  # all Jane left
    }))
    out = tmp_path / "out"
    run = grader("grade", str(archive), "-a", "softmax_gradients", "-o", str(out))
    assert run.returncode == 0, run.stderr
    reports = _reports(out)
    assert {r.student: r.score for r in reports.values()} == {long_name: 100, "Jane Doe": 0}
    assert all(len(p.name.encode()) <= 255 for p in out.iterdir())
    jane = next(r for r in reports.values() if r.student == "Jane Doe")
    assert jane.message.startswith("hw-checkpoint.py was not unpacked (a hidden file")
    download = tmp_path / "unzipped"
    (download / "Bob Li_3_assignsubmission_file").mkdir(parents=True)
    (download / "Bob Li_3_assignsubmission_file" / "hw.py").write_text(BASE)
    (download / "alice_late").mkdir()  # a folder an assistant added, of no student Moodle named
    (download / "alice_late" / "hw.py").write_text(BASE)
    (download / "Jane Doe_2_assignsubmission_file" / ".ipynb_checkpoints").mkdir(parents=True)  # as unzipped
    (download / "Jane Doe_2_assignsubmission_file" / ".ipynb_checkpoints" / "hw-checkpoint.py").write_text(BASE)
    run = grader("grade", str(download), "-a", "softmax_gradients", "-o", str(tmp_path / "out2"))
    assert run.returncode == 0 and "alice_late/: skipped (not named as Moodle names submissions)" in run.stderr
    jane = _reports(tmp_path / "out2")["Jane_Doe"]
    assert jane.status == "error" and "holds only hidden files (.ipynb_checkpoints/hw-checkpoint.py)" in jane.message


def test_report_names_keep_every_letter_of_a_name_and_no_name_starts_a_shell_option():
    from grader.report.names import safe_name

    assert safe_name("प्रिया शर्मा", set()) == "प्रिया_शर्मा"  # the vowel signs are the name's
    assert safe_name("สมชาย ใจดี", set()) == "สมชาย_ใจดี"
    assert safe_name("-rf $(x)", set()) == "rf_x"


def test_the_whole_class_graded_again_keeps_the_names_of_two_students_of_one_name(tmp_path):
    out = tmp_path / "out"
    first, late = tmp_path / "first.zip", tmp_path / "late.zip"
    first.write_bytes(_zip_of({"John Smith_4246_assignsubmission_file/hw.py": BASE}))
    late.write_bytes(_zip_of({"John Smith_4247_assignsubmission_file/hw.py": WRONG}))
    for paths in ([first], [late], [first, late]):  # the second alone, then the whole class
        run = grader("grade", *map(str, paths), "-a", "softmax_gradients", "-o", str(out))
        assert run.returncode == 0, run.stderr
    assert {p.name for p in out.glob("John*.json")} == {"John_Smith.json", "John_Smith-2.json"}
    assert "graded later" not in run.stderr
    reports = _reports(out)  # graded again, so that each says which John Smith it is of
    assert {name: r.student for name, r in reports.items()} == {"John_Smith": "John Smith (4246)",
                                                                "John_Smith-2": "John Smith (4247)"}
