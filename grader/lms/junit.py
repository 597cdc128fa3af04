"""JUnit XML of a batch of reports, as GitLab's unit test reports and Jenkins' JUnit plugin read it.

``testsuites`` > one ``testsuite`` per student > one ``testcase`` per graded test, with
``classname`` ``<assignment>.<student>`` (GitLab shows it as the suite, Jenkins as package and
class) and ``name`` the test id, unique within a student. A failed test holds ``failure``, a
test that raised or timed out ``error``; both put the whole message and the hints in their text
(GitLab and Jenkins show the text; the ``message`` attribute is its first line only). A
submission that could not be run is one testcase holding an ``error``. Characters that XML 1.0
cannot hold (control characters, lone surrogates, which student exceptions may carry) are stripped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.lms.feedback import describe_test, error_text, notes_text
from grader.lms.student_view import student_view
from grader.report.model import Report

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MESSAGE_CHARS = 300


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)


def junit_xml(reports: list[Report]) -> bytes:
    """The JUnit XML document (UTF-8, with its declaration) of ``reports``."""
    root = ET.Element("testsuites", name="grader")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    total_time = 0.0
    for report in reports:
        suite = _suite(student_view(report))
        for key in totals:
            totals[key] += int(suite.get(key))
        total_time += float(suite.get("time"))
        root.append(suite)
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("time", _seconds(total_time))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _suite(report: Report) -> ET.Element:
    classname = xml_text(f"{report.assignment}.{report.student}")
    suite = ET.Element("testsuite", name=xml_text(f"{report.assignment}/{report.student}"))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("student", report.student), ("assignment", report.assignment),
                        ("score", f"{report.score:g}"), ("max_score", f"{report.max_score:g}"),
                        ("status", report.status), ("lms_id", report.submission.lms_id or ""),
                        ("submission", report.submission.path), ("sandbox", report.grader.sandbox),
                        ("grader_version", report.grader.version)):
        ET.SubElement(properties, "property", name=name, value=xml_text(value))
    failures = errors = 0
    if report.status == "error":
        case = ET.SubElement(suite, "testcase", classname=classname, name="submission",
                             time=_seconds(report.duration_s))
        _outcome(case, "error", "SubmissionError", error_text(report))
        errors = 1
        count = 1
    else:
        share = report.duration_s / len(report.tests) if report.tests else 0.0  # the report times the whole run
        for test in report.tests:
            case = ET.SubElement(suite, "testcase", classname=classname, name=xml_text(test.id), time=_seconds(share))
            if test.status == "failed":
                _outcome(case, "failure", "WrongAnswer", describe_test(test))
                failures += 1
            elif test.status in ("error", "timeout"):
                _outcome(case, "error", "Timeout" if test.status == "timeout" else "Error", describe_test(test))
                errors += 1
        count = len(report.tests)
    notes = notes_text(report)
    if notes:
        ET.SubElement(suite, "system-out").text = xml_text(notes)
    suite.set("tests", str(count))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", _seconds(report.duration_s))
    return suite


def _outcome(case: ET.Element, tag: str, kind: str, text: str) -> None:
    text = xml_text(text)
    first = text.split("\n", 1)[0]
    message = first if len(first) <= MESSAGE_CHARS else first[: MESSAGE_CHARS - 1] + "…"
    ET.SubElement(case, tag, message=message, type=kind).text = text


def _seconds(value: float) -> str:
    return f"{max(0.0, value):.3f}"
