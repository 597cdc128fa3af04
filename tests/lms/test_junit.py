"""JUnit XML: valid against the JUnit XSD of GitLab's and Jenkins' documented shape, and parsed back."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from lxml import etree

from grader.lms.junit import junit_xml, xml_text
from tests.lms.conftest import SCHEMAS, cli_run

XSD = etree.XMLSchema(etree.parse(str(SCHEMAS / "junit.xsd")))


def _valid(xml: bytes) -> None:
    document = etree.fromstring(xml)
    assert XSD.validate(document), XSD.error_log


def test_one_suite_per_student_one_case_per_test(lms_reports):
    xml = junit_xml(list(lms_reports.values()))
    _valid(xml)
    root = ET.fromstring(xml)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert sorted(suites) == [f"softmax_gradients/{s}" for s in ("ada", "chloe", "gus", "lou")]
    chloe = suites["softmax_gradients/chloe"]
    cases = chloe.findall("testcase")
    assert [c.get("name") for c in cases] == [t.id for t in lms_reports["chloe"].tests]
    assert {c.get("classname") for c in cases} == {"softmax_gradients.chloe"}
    assert all(float(c.get("time")) >= 0 for c in cases)
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(chloe.get("failures")) == len(failed) == sum(t.status == "failed" for t in lms_reports["chloe"].tests)
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites.values())


def test_the_message_and_the_hints_are_in_the_text_of_the_failure(lms_reports):
    root = ET.fromstring(junit_xml([lms_reports["chloe"]]))
    case = next(c for c in root.iter("testcase") if c.get("name") == "softmax_jacobian/public")
    failure = case.find("failure")
    assert "max abs error" in failure.text and "hint jacobian.diagonal_only" in failure.text
    assert "sigmoid" in failure.text  # the hint's words, not only its code
    assert failure.get("message") == failure.text.split("\n")[0]


def test_raising_tests_are_errors_and_an_unrunnable_submission_is_one_error(lms_reports):
    root = ET.fromstring(junit_xml([lms_reports["lou"], lms_reports["gus"]]))
    lou, gus = root.findall("testsuite")
    raised = next(c for c in lou.iter("testcase") if c.get("name") == "softmax_backward/public")
    assert raised.find("error") is not None and "ValueError" in raised.find("error").text
    assert int(lou.get("errors")) == sum(t.status in ("error", "timeout") for t in lms_reports["lou"].tests)
    (case,) = gus.findall("testcase")
    assert case.get("name") == "submission" and "syntax error" in case.find("error").text
    assert gus.get("tests") == "1" and gus.get("errors") == "1"


def test_control_characters_and_lone_surrogates_are_stripped(lms_reports):
    report = lms_reports["lou"].model_copy(deep=True)
    test = next(t for t in report.tests if t.id == "softmax_backward/public")
    test.message = "raised ValueError: bell\x07 nul\x00 esc\x1b surrogate\ud800 end\ufffe <&> \"quoted\""
    report.student = "lou\x0bzed"
    xml = junit_xml([report])
    _valid(xml)
    text = ET.fromstring(xml).find(".//testcase[@name='%s']/error" % test.id).text
    assert text.startswith('raised ValueError: bell nul esc surrogate end <&> "quoted"')
    assert xml_text("a\x01b\udfffc\U0001F600") == "abc\U0001F600"


def test_the_command_writes_the_file(report_dir, tmp_path):
    out = tmp_path / "ci" / "junit.xml"
    run = cli_run("export", str(report_dir), "--format", "junit", "-o", str(out))
    assert run.exit_code == 0, run.stderr
    _valid(out.read_bytes())
    assert len(ET.parse(out).getroot().findall("testsuite")) == 4


@pytest.mark.parametrize("bad", [b"<testsuites><testsuite name='x' tests='1' failures='0' errors='0'>"
                                 b"<testcase name='t' time='0'/></testsuite></testsuites>",
                                 b"<testsuites><testsuite name='x' tests='1' failures='0' errors='0'>"
                                 b"<testcase classname='c' name='t' time='-1'/></testsuite></testsuites>"])
def test_the_schema_rejects_what_gitlab_and_jenkins_would_misread(bad):
    assert not XSD.validate(etree.fromstring(bad))  # no classname (GitLab's suite); a negative time
