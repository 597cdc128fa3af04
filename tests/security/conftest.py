"""Helpers of the security tests: grade a small batch (attack + honest submissions) and clean up after attacks.

Every attack is bounded (process counts, bytes, deadlines), so the suite is safe on a machine
with no sandbox; whatever an attack leaves behind is found by its tag and removed after the test.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader import api
from grader.report.model import Report
from grader.sandbox.limits import Limits

ROOT = Path(__file__).resolve().parents[2]
HONEST = (ROOT / "tests" / "fixtures" / "softmax_gradients" / "right" / "vectorised.py").read_text()
REFERENCE = ROOT / "solutions" / "softmax_gradients.py"
LIMITS = Limits(call_s=1.0, load_s=6.0, submission_s=6.0, memory_mb=1024)  # page faults are slow here: filling 2 GB takes seconds
SANDBOXES = {"bwrap", "process"}

Content = str | bytes | Callable[[Path], None]  # text, bytes, or a function that creates the file


# ---------------------------------------------------------------- the batch


@dataclass
class Batch:
    """A graded batch: its reports by student, and the text of everything the grader wrote."""

    folder: Path
    out: Path
    reports: dict[str, Report]
    honest: tuple[str, ...]
    written: list[Path] = field(default_factory=list)  # everything in out but what the test seeded there
    foreign: list[str] = field(default_factory=list)  # files in out that are neither reports, summaries nor pages

    @property
    def attacker(self) -> Report:
        assert "attacker" in self.reports, f"no report for the attacker; reports: {sorted(self.reports)}"
        return self.reports["attacker"]

    @property
    def text(self) -> str:
        """Every file the grader wrote, raw, then every string in its JSON decoded (escapes resolved)."""
        raw = [p.read_text(encoding="utf-8", errors="replace") for p in self.written]
        decoded = []
        for text in raw:
            try:
                decoded += list(_strings(json.loads(text)))
            except ValueError:
                pass
        return "\n".join(raw + decoded)

    def invariants(self, secret: str) -> list[tuple[bool, str]]:
        """What must hold after any attack: every honest submission at 100, and every report honest about itself."""
        checks = []
        for name in self.honest:
            r = self.reports.get(name)
            checks.append((r is not None and r.status == "graded" and r.score == 100,
                           f"honest submission {name!r} was not graded as if alone: "
                           + (f"status {r.status}, score {r.score}, {_failures(r)}" if r else "no report")))
        for name, r in self.reports.items():
            checks.append((r.grader.sandbox in SANDBOXES, f"{name}: grader.sandbox is {r.grader.sandbox!r}"))
            named = {k: r.grader.limits.get(k) for k in LIMITS.describe()}
            checks.append((named == LIMITS.describe(), f"{name}: grader.limits is {r.grader.limits}"))
        checks.append((secret not in self.text, "the instructor's LMS_TOKEN appears in a report"))
        checks.append((not self.foreign, f"files in the output folder that the grader did not write: {self.foreign}"))
        return checks


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _failures(report: Report) -> str:
    if report.message:
        return report.message
    return "; ".join(f"{t.id}: {t.message}" for t in report.tests if t.status != "passed")[:600]


def verdict(*checks: tuple[bool, str]) -> None:
    """Assert every (condition, message) at once, so that a failure lists everything that went wrong."""
    failed = [message for ok, message in checks if not ok]
    assert not failed, "\n".join(failed)


@pytest.fixture
def grade_batch(tmp_path):
    """Write a batch into tmp_path/batch (the given files plus honest copies) and grade it into tmp_path/out."""

    def grade(files: dict[str, Content], honest: tuple[str, ...] = ("honest",),
              seed_out: dict[str, str] | None = None, on_report: Callable[..., None] | None = None) -> Batch:
        folder, out = tmp_path / "batch", tmp_path / "out"
        folder.mkdir(exist_ok=True)
        out.mkdir(exist_ok=True)
        for name, text in (seed_out or {}).items():
            (out / name).write_text(text)
        for name, content in files.items():
            path = folder / name
            if callable(content):
                content(path)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        for name in honest:
            (folder / f"{name}.py").write_text(HONEST)
        api.grade([folder], assignment="softmax_gradients", out_dir=out, jobs=2, limits=LIMITS, on_report=on_report)
        written = sorted(p for p in out.iterdir() if p.name not in (seed_out or {}))
        reports, foreign = {}, []
        stems = {p.stem for p in written if p.suffix == ".json"}
        for path in written:
            if path.name in ("summary.json", "summary.csv", "index.html"):
                continue
            if path.suffix == ".html" and path.stem in stems:  # the student page beside a report
                continue
            try:
                report = Report.model_validate_json(path.read_text(encoding="utf-8"))
                reports[report.student] = report
            except ValueError:
                foreign.append(path.name)
        return Batch(folder, out, reports, honest, written, foreign)

    return grade


# ---------------------------------------------------------------- secrets and leftovers


@pytest.fixture(autouse=True)
def secret(monkeypatch) -> str:
    """The instructor's LMS token, in the grader's environment during every test."""
    token = "secret-" + secrets.token_hex(12)
    monkeypatch.setenv("LMS_TOKEN", token)
    return token


def _set_subreaper(on: bool) -> None:
    """Orphans of attacks become our children (not init's, which may never reap them), so they can be reaped."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, int(on), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _reap_adopted() -> None:
    """Reap the dead children this process adopted as a subreaper: the sandbox workers of the test's batch
    (its bwrap killed first, each worker came to us). Left as zombies they would count against the sandbox
    user's RLIMIT_NPROC, and a later test with a small one could not even start Python."""
    me = str(os.getpid()).encode()
    for entry in os.listdir("/proc"):
        fields = _read(f"/proc/{entry}/stat").rpartition(b")")[2].split()[:2] if entry.isdigit() else []
        if fields == [b"Z", me]:  # a zombie child: no Popen of the batch waits for it any more (the batch is over)
            try:
                os.waitpid(int(entry), os.WNOHANG)
            except ChildProcessError:
                pass


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def tagged_pids(tag: str, zombies: bool = False) -> list[int]:
    """Processes whose name, command line or environment holds ``tag`` (live ones only, unless ``zombies``)."""
    needle, found = tag.encode(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        stat = _read(f"/proc/{entry}/stat")
        state = stat.rpartition(b")")[2].split()[:1]
        if state == [b"Z"] and not zombies:
            continue
        if any(needle in _read(f"/proc/{entry}/{part}") for part in ("comm", "cmdline", "environ")):
            found.append(int(entry))
    return found


def survivors(tag: str, grace_s: float = 2.0) -> list[int]:
    """The tagged processes still alive ``grace_s`` after grading (a SIGKILL takes a moment to land)."""
    end = time.monotonic() + grace_s
    while (alive := tagged_pids(tag)) and time.monotonic() < end:
        time.sleep(0.1)
    return alive


def sandbox_leftovers(tag: str) -> list[str]:
    """Files named with ``tag`` in the /tmp of any live worker (seen through /proc/PID/root), or of the host."""
    found = {p.name for p in Path("/tmp").glob(f"*{tag}*")}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and b"worker.py" in _read(f"/proc/{entry}/cmdline"):
            try:
                found |= {p.name for p in Path(f"/proc/{entry}/root/tmp").glob(f"*{tag}*")}
            except OSError:
                pass
    return sorted(found)


@pytest.fixture
def tag():
    """A name for this test's attack processes and files (fits in /proc/PID/comm); all are removed afterwards."""
    name = "gsec" + secrets.token_hex(5)
    _set_subreaper(True)
    yield name
    for _ in range(3):
        for pid in tagged_pids(name, zombies=True):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in tagged_pids(name, zombies=True):
            try:
                os.waitpid(pid, os.WNOHANG)  # our orphans (we are their subreaper)
            except ChildProcessError:
                pass
        time.sleep(0.1)
    _set_subreaper(False)
    _reap_adopted()
    for path in Path("/tmp").glob(f"*{name}*"):
        path.unlink(missing_ok=True)


@pytest.fixture
def runner() -> dict:
    """Who the test runner is: an attack that would hit everyone refuses to run inside it."""
    return {"uid": os.getuid(), "pidns": os.readlink("/proc/self/ns/pid"), "pgrp": os.getpgrp(), "pid": os.getpid()}
