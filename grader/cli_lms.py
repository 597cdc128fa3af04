"""The LMS commands: ``grader export``, ``grader gradescope bundle|run`` and ``grader prairielearn run``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from grader.errors import ExitCode, GraderError
from grader.lms import gradescope as gs
from grader.lms import prairielearn as pl
from grader.lms.autograde import Outcome, grade_folder
from grader.lms.canvas import ID_COLUMNS, canvas_csv
from grader.lms.classroom import classroom_results
from grader.lms.junit import junit_xml
from grader.lms.moodle import GRADE, WorksheetError, fill_worksheet
from grader.lms.reports import load_reports
from grader.report.folder import stale_warning, superseded_warning
from grader.report.write import write_atomic
from grader.terminal import fail, warn

FORMATS = ("canvas", "junit", "prairielearn", "classroom", "moodle")


def _launcher(require_sandbox: bool, unsafe_no_sandbox: bool):
    """The sandbox, with ``grade``'s policy: as root, no run without bubblewrap unless told it is fine."""
    from grader import api
    from grader.cli import _warn_unsandboxed  # the same words and rule as grader grade

    launcher = api.default_launcher(require_sandbox=require_sandbox)
    _warn_unsandboxed(launcher, unsafe_no_sandbox)
    return launcher


def _per_assignment(values: tuple[str, ...], assignments: list[str], option: str) -> dict[str, str]:
    """``--option VALUE`` (one assignment) or ``--option NAME=VALUE`` (any) as {assignment: value}."""
    out = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if sep and name in assignments:
            out[name] = rest
        elif len(assignments) == 1 and len(values) == 1:
            out[assignments[0]] = value
        else:
            fail(f"{option} {value!r}: give NAME=VALUE with NAME one of {', '.join(assignments)}")
    return out


@click.command("export")
@click.argument("reportdir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="what to write")
@click.option("-o", "--out", "out_arg", required=True, type=click.Path(),
              help="a file (canvas, junit, moodle; prairielearn of one report), or a folder to write it in under its "
                   "usual name; a folder (prairielearn of a folder, classroom)")
@click.option("--canvas-assignment-id", "canvas_ids", multiple=True, metavar="[NAME=]ID",
              help="Canvas's id of the assignment: the column becomes 'Title (ID)' (without it Canvas matches by title)")
@click.option("--canvas-title", "canvas_titles", multiple=True, metavar="[NAME=]TITLE",
              help="the assignment's title in Canvas (default: the exercise's title)")
@click.option("--canvas-student-ids", type=click.Choice(sorted(ID_COLUMNS)),
              help="the student ids are Canvas SIS ids: write them in that column too")
@click.option("--no-points-possible", is_flag=True, help="leave out Canvas's 'Points Possible' row")
@click.option("--moodle-worksheet", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the assignment's grading worksheet as Moodle gave it, to fill in (moodle)")
@click.option("--moodle-grade-column", default=GRADE, show_default=True,
              help="the worksheet's grade column, as Moodle names it in the site's language (moodle)")
def export_cmd(reportdir: Path, fmt: str, out_arg: str, canvas_ids: tuple[str, ...], canvas_titles: tuple[str, ...],
               canvas_student_ids: str | None, no_points_possible: bool, moodle_worksheet: Path | None,
               moodle_grade_column: str) -> None:
    """Export the reports in REPORTDIR (or one report file) for an LMS: canvas, junit, prairielearn, classroom, or
    moodle (its grading worksheet, filled in)."""
    out = Path(out_arg)
    try:
        loaded = load_reports(reportdir)
    except GraderError as exc:
        fail(str(exc))
    if reportdir.is_dir() and out.resolve() == reportdir.resolve():
        fail(f"-o {out} is the folder of the reports: the export would overwrite them")
    for name, why in loaded.skipped:
        warn(f"{name}: skipped, {why}")
    if loaded.stale:
        warn(stale_warning(loaded.stale))
    if loaded.superseded:
        warn(superseded_warning(loaded.superseded))
    reports = [report for _, report in loaded.reports]
    one_file = fmt in ("canvas", "moodle", "junit") or fmt == "prairielearn" and reportdir.is_file()
    if one_file and (out.is_dir() or out_arg.endswith(("/", os.sep))):  # a folder: the export's usual name in it
        out = out / _file_name(fmt, moodle_worksheet)
    elif not one_file and out.exists() and not out.is_dir():
        fail(f"-o {out} is a file: --format {fmt} of a folder of reports writes a folder (a file per report)")
    if fmt == "canvas":
        assignments = list(dict.fromkeys(r.assignment for r in reports))
        export = canvas_csv(reports, titles=_per_assignment(canvas_titles, assignments, "--canvas-title"),
                            canvas_ids=_per_assignment(canvas_ids, assignments, "--canvas-assignment-id"),
                            student_id_column=canvas_student_ids, points_possible=not no_points_possible)
        for warning in export.warnings:
            warn(warning)
        _write(out, export.text.encode("utf-8"))
    elif fmt == "moodle":
        if moodle_worksheet is None:
            fail("--format moodle fills in the assignment's grading worksheet: download it from the assignment "
                 "(its Grading action menu, \"Download grading worksheet\") and give it with --moodle-worksheet")
        try:
            filled = fill_worksheet(reports, moodle_worksheet.read_text(encoding="utf-8-sig"), moodle_grade_column)
        except (WorksheetError, UnicodeDecodeError) as exc:
            fail(f"{moodle_worksheet}: {exc}")
        for warning in filled.warnings:
            warn(warning)
        _write(out, filled.text.encode("utf-8"))
    elif fmt == "junit":
        _write(out, junit_xml(reports))
    elif fmt == "prairielearn":
        if reportdir.is_file():
            _write(out, pl.encode(pl.prairielearn_results(reports[0])))
        else:
            for stem, report in loaded.reports:
                _write(out / f"{stem}.json", pl.encode(pl.prairielearn_results(report)))
    else:
        for stem, report in loaded.reports:
            folder = out if reportdir.is_file() else out / stem
            for function, result in classroom_results(report).items():
                _write(folder / f"{function}.json", (json.dumps(result, indent=2) + "\n").encode("utf-8"))
    click.echo(f"wrote {fmt} export of {len(reports)} report{'s' if len(reports) != 1 else ''} to {out}")
    if loaded.skipped:  # the export is written, but it lacks someone: a CI job must not stay green
        click.echo(f"{len(loaded.skipped)} file{'s' if len(loaded.skipped) != 1 else ''} skipped (see the warnings): "
                   "the export is incomplete", err=True)
        raise SystemExit(1)


def _file_name(fmt: str, worksheet: Path | None) -> str:
    """The name an export of one file gets in the folder given as -o."""
    if fmt == "moodle" and worksheet is not None:
        return f"{worksheet.stem}-graded.csv"
    return {"canvas": "canvas-grades.csv", "moodle": "moodle-grades.csv", "junit": "junit.xml",
            "prairielearn": "results.json"}[fmt]


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data.decode("utf-8"))
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")


@click.group("gradescope")
def gradescope() -> None:
    """Gradescope's autograder: the zip to upload, and the run inside it."""


@gradescope.command("bundle")
@click.option("-a", "--assignment", required=True, help="assignment name")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="the zip to write")
@click.option("--solutions", type=click.Path(path_type=Path), default=None, help="folder of reference solutions")
@click.option("--visibility-hidden", type=click.Choice(gs.VISIBILITIES), default=gs.DEFAULT_HIDDEN_VISIBILITY,
              show_default=True, help="when students see the hidden tests")
@click.option("--unsafe-no-sandbox", is_flag=True,
              help="grade as root without bubblewrap where Gradescope's container cannot run it")
def gradescope_bundle(assignment: str, out: Path, solutions: Path | None, visibility_hidden: str,
                      unsafe_no_sandbox: bool) -> None:
    """Write Gradescope's autograder zip (setup.sh, run_autograder, the grader, the references)."""
    from grader.lms.gradescope_bundle import build_bundle

    try:
        names = build_bundle(out, assignment=assignment, solutions=solutions, hidden_visibility=visibility_hidden,
                             unsafe_no_sandbox=unsafe_no_sandbox)
    except GraderError as exc:
        fail(str(exc))
    click.echo(f"wrote {out}: {', '.join(names)}")


@gradescope.command("run")
@click.option("-a", "--assignment", help="assignment name (told from the submission when omitted)")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/autograder"), show_default=True)
@click.option("--solutions", type=click.Path(path_type=Path), default=None,
              help="folder of reference solutions (default: ROOT/source/solutions)")
@click.option("--visibility-hidden", type=click.Choice(gs.VISIBILITIES), default=gs.DEFAULT_HIDDEN_VISIBILITY,
              show_default=True, help="when students see the hidden tests")
@click.option("--require-sandbox", is_flag=True, help="refuse to grade without the bubblewrap sandbox")
@click.option("--unsafe-no-sandbox", is_flag=True, help="as root, grade without the sandbox anyway")
def gradescope_run(assignment: str | None, root: Path, solutions: Path | None, visibility_hidden: str,
                   require_sandbox: bool, unsafe_no_sandbox: bool) -> None:
    """Grade ROOT/submission/ and write ROOT/results/results.json."""
    solutions = solutions or _first_dir(root / "source" / "solutions")
    outcome = _grade(root / "submission", assignment, solutions, require_sandbox, unsafe_no_sandbox)
    if outcome.report is not None:
        results = gs.gradescope_results(outcome.report, hidden_visibility=visibility_hidden,
                                        graded_note=outcome.graded_note)
    else:
        results = gs.failure_results(_student_words(outcome))
    _write(root / "results" / "results.json", (json.dumps(results, indent=2, ensure_ascii=False) + "\n").encode())
    _log(outcome, root / "results" / "results.json")  # Gradescope shows this output to instructors only
    sys.exit(ExitCode.USAGE_ERROR if outcome.grader_side else ExitCode.OK)


@click.group("prairielearn")
def prairielearn() -> None:
    """PrairieLearn's external grader."""


@prairielearn.command("run")
@click.option("-a", "--assignment", help="assignment name (told from the submission when omitted)")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("/grade"), show_default=True)
@click.option("--solutions", type=click.Path(path_type=Path), default=None,
              help="folder of reference solutions (default: ROOT/tests/solutions, then ROOT/serverFilesCourse/solutions)")
@click.option("--require-sandbox", is_flag=True, help="refuse to grade without the bubblewrap sandbox")
@click.option("--unsafe-no-sandbox", is_flag=True, help="as root, grade without the sandbox anyway")
def prairielearn_run(assignment: str | None, root: Path, solutions: Path | None, require_sandbox: bool,
                     unsafe_no_sandbox: bool) -> None:
    """Grade ROOT/student/ and write ROOT/results/results.json."""
    solutions = solutions or _first_dir(root / "tests" / "solutions", root / "serverFilesCourse" / "solutions")
    outcome = _grade(root / "student", assignment, solutions, require_sandbox, unsafe_no_sandbox)
    if outcome.report is not None:
        results = pl.prairielearn_results(outcome.report, graded_note=outcome.graded_note)
    else:
        results = pl.failure_results(_student_words(outcome))
    _write(root / "results" / "results.json", pl.encode(results))
    click.echo(f"wrote {root / 'results' / 'results.json'}: " + (outcome.graded_note or outcome.problem))
    if outcome.grader_side:
        click.echo(f"error: the grader is not set up: {outcome.problem}", err=True)
    sys.exit(ExitCode.USAGE_ERROR if outcome.grader_side else ExitCode.OK)


def _first_dir(*candidates: Path) -> Path | None:
    return next((c for c in candidates if c.is_dir()), None)


def _grade(folder: Path, assignment: str | None, solutions: Path | None, require_sandbox: bool,
           unsafe_no_sandbox: bool) -> Outcome:
    try:
        launcher = _launcher(require_sandbox, unsafe_no_sandbox)
    except GraderError as exc:
        return Outcome(problem=f"The autograder is not set up right: {exc}", grader_side=True)
    return grade_folder(folder, assignment=assignment, solutions=solutions, launcher=launcher)


def _log(outcome: Outcome, results: Path) -> None:
    """The run's log: which file, and each test as the instructor sees it (unredacted)."""
    click.echo(f"wrote {results}")
    if outcome.graded_note:
        click.echo(outcome.graded_note)
    if outcome.problem:
        click.echo(outcome.problem)
    report = outcome.report
    if report is None:
        return
    click.echo(f"{report.student}: {report.status}, score {report.score:g} / {report.max_score:g} "
               f"(sandbox: {report.grader.sandbox})" + (f": {report.message}" if report.message else ""))
    for test in report.tests:
        click.echo(f"  {test.status:7} {test.score:g}/{test.max_score:g}  {test.id}: {test.message}")


NOT_SET_UP = ("the grader is not set up right for this assignment, so your submission was not graded "
              "(this is not your mistake; the course staff can see why in the grader's log)")


def _student_words(outcome) -> str:
    """What a student is told when there is no report: the problem with their files, or that the grader is at fault
    (the instructor's own words, such as which option to pass, go to the log only)."""
    if outcome.grader_side:
        return NOT_SET_UP
    return "\n\n".join(p for p in (outcome.problem, outcome.graded_note) if p)
