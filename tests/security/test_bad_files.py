"""Bad files: whatever a submission file is, it gets a report with a plain message, and the batch goes on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nbformat import v3

from .conftest import HONEST, verdict


def _v3_notebook(path):
    cell = v3.new_code_cell(input=HONEST)
    path.write_text(v3.writes_json(v3.new_notebook(worksheets=[v3.new_worksheet(cells=[cell])])))


def _sparse_300_mb(path):
    with open(path, "wb") as f:
        f.truncate(300 << 20)


def _link_to_passwd(path):
    path.symlink_to("/etc/passwd")


BAD = [  # (file name, content, words the message must hold; None: any clean report)
    pytest.param("attacker.ipynb", '{"cells": [{"cell_type": "code", "source": "import os', r"notebook", id="corrupt_notebook_json"),
    pytest.param("attacker.ipynb", _v3_notebook, None, id="nbformat_v3_notebook"),
    pytest.param("attacker.py", b"", r"empty", id="empty_file"),
    pytest.param("attacker.py", bytes(range(256)) * 64, r"binary", id="binary_file"),
    pytest.param("attacker.py", ("# café\n" + HONEST).encode("latin-1"), r"UTF-8", id="not_utf8"),
    pytest.param("attacker.py", _sparse_300_mb, r"larger|MB", id="sparse_300_mb"),
    pytest.param("attacker.py", _link_to_passwd, r"link", id="symlink_to_etc_passwd"),
]


@pytest.mark.parametrize("name, content, words", BAD)
def test_a_bad_file_gets_a_plain_error_and_the_batch_goes_on(name, content, words, grade_batch, secret):
    batch = grade_batch({name: content})

    attacker = batch.attacker
    passwd = [line for line in Path("/etc/passwd").read_text().splitlines() if len(line) >= 8]
    if words is None:  # e.g. an old notebook is upgraded: it may be graded, but cleanly
        clean = (attacker.status == "graded" and attacker.score == 100) or (attacker.status == "error" and bool(attacker.message))
        said = (clean, f"not a clean report: status {attacker.status}, score {attacker.score}, message {attacker.message}")
    else:
        said = (attacker.status == "error" and attacker.score == 0 and bool(re.search(words, attacker.message or "")),
                f"status {attacker.status}, score {attacker.score}, message {attacker.message!r}")
    verdict(
        said,
        (not [line for line in passwd if line in batch.text], "a line of /etc/passwd appears in a report"),
        *batch.invariants(secret),
    )


def test_a_strange_file_name_is_graded_and_its_report_stays_in_the_output_folder(grade_batch, secret):
    name = '-rf "élève\'s" ☃ $(touch x) notes.py'
    batch = grade_batch({name: HONEST})

    student = name[:-3]
    report = batch.reports.get(student)
    verdict(
        (report is not None and report.status == "graded" and report.score == 100,
         f"the strangely named submission got {report and (report.status, report.score, report.message)}"),
        (all(p.parent == batch.out and re.fullmatch(r"\w[\w.-]*", p.name) for p in batch.written),  # letters of any
         # script, digits, "_", "." and "-", never first: no "-rf" for a shell, no space, quote or "$"
         f"report file names: {[p.name for p in batch.written]}"),
        (json.loads((batch.out / "summary.json").read_text())["students"] == 2, "summary.json does not count 2 students"),
        *batch.invariants(secret),
    )
