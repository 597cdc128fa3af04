"""The report of one submission (CONTRACT.md section 3): the single source of the JSON and its schema."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1"


class Evidence(BaseModel):
    """Why a hint was given: on how many cases the mistake's output matched the student's."""

    model_config = ConfigDict(extra="allow")

    matched_cases: int
    of: int


class Hint(BaseModel):
    """A recognised mistake (or a warning): a stable code, words for the student, and the evidence."""

    code: str = Field(description="stable identifier from HINTS.md, e.g. jacobian.diagonal_only")
    message: str
    evidence: Optional[Evidence] = None
    warning: bool = Field(False, description="true for a remark that costs no points")


class HintSummary(BaseModel):
    """A hint as listed once at the top of the report."""

    code: str
    message: str
    function: str


class TestResult(BaseModel):
    """One graded test: a function (or one key of its result) on a group of seeded cases."""

    id: str = Field(description="e.g. softmax_jacobian/hidden-random or rnn_backward[W]/public")
    function: str
    key: Optional[str] = None
    visibility: Literal["public", "hidden"]
    status: Literal["passed", "failed", "error", "timeout"]
    score: float
    max_score: float
    message: str
    hints: list[Hint] = Field(default_factory=list)
    cases: int = Field(0, description="number of input cases in this test")


class SubmissionInfo(BaseModel):
    """The file that was graded."""

    path: str
    sha256: str
    kind: Literal["py", "ipynb", "unknown"]
    lms_id: Optional[str] = Field(None, description="the LMS's id of the student (Canvas's user id, Moodle's participant id), when known")
    late: Optional[bool] = Field(None, description="the LMS marked the submission late")
    lms: Optional[Literal["canvas", "moodle"]] = Field(None, description="the LMS whose download the file came from "
                                                       "(whose id lms_id is), when it came from one")
    modules: Optional[dict[str, str]] = Field(None, description="the student's own modules that the file imports, "
                                              "handed in beside it (a folder of them a package), importable when it "
                                              "is graded: each file's path beside it and its sha256")


class GraderInfo(BaseModel):
    """The grader that wrote the report, and how it isolated the submission."""

    version: str
    sandbox: str = Field(description='"bwrap", or "process" when only a separate process with limits was used')
    sandbox_note: Optional[str] = None
    limits: dict[str, float] = Field(default_factory=dict)
    assignment_version: str = ""
    answers: str = Field("reference", description='"reference" (grade) or "public data" (check)')
    answers_sha256: Optional[str] = Field(
        None, description="fingerprint of the expected answers the submission was judged against: a rerun of "
                          "grade reuses a report only where its reference solutions give the same answers")
    code_sha256: Optional[str] = Field(
        None, description="fingerprint of the grader's own code (its checks, hints and templates): a rerun of grade "
                          "reuses a report only when it was written by the very same code")


class Report(BaseModel):
    """What the grader says of one submission."""

    schema_version: Literal["1"] = SCHEMA_VERSION
    assignment: str
    student: str
    submission: SubmissionInfo
    status: Literal["graded", "error"]
    score: float
    max_score: float
    message: Optional[str] = Field(None, description="why the submission could not be graded (status error)")
    tests: list[TestResult] = Field(default_factory=list)
    hints: list[HintSummary] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="what the grader noticed: dropped magics, failing cells")
    grader: GraderInfo
    duration_s: float = 0.0
    missing_packages: list[str] = Field(
        default_factory=list, description="packages the submission's code imports that the grader's Python does not "
                                          "have: the code stopped at their import (graded again once installed)")
