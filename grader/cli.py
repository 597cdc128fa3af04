"""The ``grader`` command line: parse, call the API, render, map the outcome to an exit status."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path

# Set before NumPy is first imported (by ``api``): every array the grader itself handles is small, and an OpenBLAS
# thread per core would only spin after each product, taking about 0.1 s of CPU a batch from the sandbox's workers.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click

from grader import __version__, api
from grader.errors import ExitCode, GraderError
from grader.report.folder import superseded_warning
from grader.report.html.command import report_cmd
from grader.report.model import Report
from grader.report.progress import BatchProgress
from grader.report.text import render_batch, render_check
from grader.sandbox.limits import Limits
from grader.source.modules import read_with_modules
from grader.terminal import console, fail, warn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def cli() -> None:
    """Grade softmax and BPTT gradient exercises, with hints that name the mistake."""


@cli.command("check")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("-a", "--assignment", help="assignment name (told from the functions defined when omitted)")
@click.option("--json", "as_json", is_flag=True, help="print the JSON report instead of the table")
@click.option("--require-sandbox", is_flag=True, help="refuse to run without the bubblewrap sandbox")
@click.option("--unsafe-no-sandbox", is_flag=True, help="as root, run without the sandbox anyway")
def check_cmd(path: Path, assignment: str | None, as_json: bool, require_sandbox: bool, unsafe_no_sandbox: bool) -> None:
    """Run the public tests on your submission PATH (.py or .ipynb), with hints."""
    if not path.exists() and not path.is_symlink():
        fail(f"{path} does not exist")
    if path.suffix.lower() not in (".py", ".ipynb"):
        fail(f"{path} is not a .py or .ipynb file: check the template you filled in "
             "(assignments/<assignment>/<assignment>.py or .ipynb)")
    try:
        launcher = api.default_launcher(require_sandbox=require_sandbox, spares=1)
        _warn_unsandboxed(launcher, unsafe_no_sandbox)
        source = read_with_modules(path)
        with _running(f"running your code on the public tests (each call is stopped after {Limits().call_s:g} s)"):
            report = api.check_source(source, assignment=assignment, launcher=launcher)
    except GraderError as exc:
        fail(str(exc))
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        render_check(report, console(laid_out=True))
    if source.error:  # unreadable input; code that raised or hung on loading fails its tests (1), as wrong code does
        sys.exit(ExitCode.USAGE_ERROR)
    passed = report.status == "graded" and all(t.status == "passed" for t in report.tests)
    sys.exit(ExitCode.OK if passed else ExitCode.TESTS_FAILED)


def _running(what: str):
    """A spinner saying ``what`` on stderr while it runs, on a terminal only (nothing in a log or a pipe)."""
    err = console(stderr=True)
    return err.status(what) if err.is_terminal else contextlib.nullcontext()


@cli.command("grade")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-a", "--assignment", help="assignment name (when omitted: the one whose functions most submissions define)")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path), help="folder for the reports")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=None, help="submissions graded at once (default: cores)")
@click.option("--solutions", type=click.Path(path_type=Path), default=None, help="folder of reference solutions")
@click.option("--require-sandbox", is_flag=True, help="refuse to grade without the bubblewrap sandbox")
@click.option("--unsafe-no-sandbox", is_flag=True, help="as root, grade without the sandbox anyway")
@click.option("--force", is_flag=True, help="regrade submissions whose report is already up to date")
def grade_cmd(paths: tuple[Path, ...], assignment: str | None, out_dir: Path, jobs: int | None, solutions: Path | None,
              require_sandbox: bool, unsafe_no_sandbox: bool, force: bool) -> None:
    """Grade every submission in PATHS into OUT: a JSON report each, summary.csv and summary.json."""
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        fail(f"not found: {', '.join(missing)}")
    try:
        launcher = api.default_launcher(require_sandbox=require_sandbox, spares=api.default_jobs(jobs))
        _warn_unsandboxed(launcher, unsafe_no_sandbox)
        signal.signal(signal.SIGTERM, _interrupt)
        with BatchProgress(console(stderr=True)) as progress:
            batch = api.grade(list(paths), assignment=assignment, out_dir=out_dir, jobs=jobs, solutions=solutions,
                              launcher=launcher, force=force, on_start=progress.start, on_report=progress.advance,
                              on_warning=warn)
    except GraderError as exc:
        fail(str(exc))
    except KeyboardInterrupt as stop:
        console(stderr=True).print("[yellow]interrupted:[/yellow] the reports written so far are whole; "
                                   "run the same command again to finish the batch")
        sys.exit(128 + getattr(stop, "signum", signal.SIGINT))  # as the shell reports a signal
    render_batch(batch.statistics, str(out_dir), console())
    if batch.pages_problem:
        warn(batch.pages_problem)
    graded = batch.statistics["graded"]
    if batch.none_defined and batch.none_defined == graded:
        warn(f"none of the {graded} submission{'s' * (graded > 1)} graded defines a function of "
             f"{batch.summary.assignment}: is it the right assignment? (without -a, the grader tells it from "
             "the functions the submissions define)")
    if batch.missing_packages:
        count, which = batch.missing_in, ", ".join(f"{package} in {n}" for package, n in batch.missing_packages.items())
        warn(f"{count} submission{'s' * (count > 1)} import{'s' * (count == 1)} modules that this grader's Python "
             f"({sys.executable}) does not have ({which}): their code stopped there (a .py scores 0; a notebook loses "
             "the cells that use them). If they are packages your course uses, install them into that Python (their "
             "names on PyPI may differ: sklearn is scikit-learn) and run the same command again: those submissions "
             "are graded again. A module of a student's own (a helpers.py) cannot be installed: the student hands it "
             "in beside their file, or puts its code in that file.")
    if batch.superseded_reports:
        warn(superseded_warning(batch.superseded_reports, where=f"in {out_dir}"))
    if batch.stray_reports:
        count = len(batch.stray_reports)
        one = count == 1
        it, them = ("it", "that student's file was") if one else ("them", "those students' files were")
        warn(f"{out_dir} also holds {count} report{'' if one else 's'} of no submission of this batch "
             f"({', '.join(batch.stray_reports[:5])}{', ...' if count > 5 else ''}): left as {'it is' if one else 'they are'}, "
             f"and read by grader export, but not in this batch's summary.csv, summary.json and class page "
             f"(grader report {out_dir} builds the class page of every report there); remove {it} only if {them} "
             "removed on purpose")


class _Stopped(KeyboardInterrupt):
    """A batch stopped by a signal other than Ctrl-C's (SIGTERM): the exit status says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum, frame) -> None:
    raise _Stopped(signum)


def _warn_unsandboxed(launcher, unsafe_ok: bool = False) -> None:
    """Say on the terminal that there is no sandbox; as root, refuse unless told it is fine."""
    if launcher.name == "bwrap":
        return
    if os.geteuid() == 0 and not unsafe_ok:
        raise GraderError(
            f"{launcher.note}. Running student code as root without the sandbox could harm this machine "
            "(kill(-1) alone would stop every process): install bubblewrap, run as an unprivileged user, "
            "or pass --unsafe-no-sandbox"
        )
    warn(launcher.note)


@cli.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the report."""
    click.echo(json.dumps(Report.model_json_schema(), indent=2))


@cli.command("hints")
@click.option("--markdown", is_flag=True, help="print the table of docs/hints.md")
def hints_cmd(markdown: bool) -> None:
    """List every hint code with its message."""
    from grader import exercises
    from grader.diagnosis.catalogue import all_hints, hints_markdown

    rows = all_hints(list(exercises.EXERCISES.values()))
    if markdown:
        click.echo(hints_markdown(rows), nl=False)
        return
    for code, function, message in rows:
        click.echo(f"{code}  [{function}]\n    {message}\n")


@cli.command("assign")
@click.argument("solution", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
def assign_cmd(solution: Path, out_dir: Path) -> None:
    """Build the student templates (.py and .ipynb) from a SOLUTION with solution markers."""
    from grader.authoring.templates import MarkerError, templates

    try:
        py, ipynb = templates(solution.read_text(encoding="utf-8"))
    except MarkerError as exc:
        fail(f"{solution}: {exc}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{solution.stem}.py").write_text(py, encoding="utf-8")
    (out_dir / f"{solution.stem}.ipynb").write_text(ipynb, encoding="utf-8")
    click.echo(f"wrote {out_dir / (solution.stem + '.py')} and {out_dir / (solution.stem + '.ipynb')}")


@cli.command("build-data", hidden=True)
@click.option("-a", "--assignment", required=True)
@click.option("--solutions", type=click.Path(path_type=Path), default=None)
def build_data_cmd(assignment: str, solutions: Path | None) -> None:
    """Write the public answers that `grader check` ships with (instructors and maintainers only)."""
    from grader import exercises
    from grader.evaluation.answers import build_public_data, data_path
    from grader.evaluation.reference import find_solutions, load_reference

    try:
        exercise = exercises.get(assignment)
        text = build_public_data(exercise, load_reference(exercise, find_solutions(solutions)))
    except (KeyError, GraderError) as exc:
        fail(str(exc))
    data_path(exercise).write_text(text, encoding="utf-8")
    click.echo(f"wrote {data_path(exercise)}")


from grader.cli_lms import export_cmd, gradescope, prairielearn  # noqa: E402 - the LMS commands' own module
for _command in (export_cmd, gradescope, prairielearn):
    cli.add_command(_command)
cli.add_command(report_cmd)


def main() -> None:
    """Entry point of the console script."""
    cli(prog_name="grader")
