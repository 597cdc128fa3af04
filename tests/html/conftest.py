"""The HTML pages' test data (classes graded by the real grader, synthesised reports) and a headless Chromium.

The browser is Debian's Chromium driven by Playwright; no browser is ever downloaded. Without one the
browser tests are skipped, saying why. Every page opened through ``open_page`` has all network traffic
blocked and recorded, so a test can assert that the page asked for nothing but its own files.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader import __version__, api
from grader.report.model import Evidence, GraderInfo, Hint, HintSummary, Report, SubmissionInfo, TestResult
from grader.report.write import write_atomic
from grader.report.names import safe_name
from tests.conftest import FIXTURES, ROOT, TEST_LIMITS

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE_FILE_ID = "<img src=x onerror=window.pwned=1>"  # a student id that a file name can carry
HOSTILE_ID = "<script>window.pwned=1</script>"  # and one only a report can (a file name has no '/')
HOSTILE_HINT = '<script>window.pwned=2</script><img src=x onerror="window.pwned=3"> p_i'


def find_chromium() -> str | None:
    """GRADER_CHROMIUM, else Debian's /usr/bin/chromium, else a chromium on PATH."""
    for candidate in (os.environ.get("GRADER_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def load_json_reports(folder: Path) -> dict[str, Report]:
    """The reports of a folder by file stem, read directly (not through the code under test)."""
    return {p.stem: Report.model_validate_json(p.read_text()) for p in sorted(folder.glob("*.json"))
            if p.name != "summary.json"}


# --- classes graded by the real grader ---------------------------------------------------------------

@pytest.fixture(scope="session")
def softmax_class(tmp_path_factory) -> Path:
    """examples/softmax_gradients, plus a submission whose file name is markup, graded by ``api.grade``."""
    subs = tmp_path_factory.mktemp("softmax-subs")
    for path in (ROOT / "examples" / "softmax_gradients").iterdir():
        shutil.copy(path, subs / path.name)
    base = (FIXTURES / "softmax_gradients" / "right" / "vectorised.py").read_text()
    mistake = (FIXTURES / "softmax_gradients" / "mistakes" / "jacobian.diagonal_only.py").read_text()
    (subs / f"{HOSTILE_FILE_ID}.py").write_text(base + "\n\n" + mistake)
    out = tmp_path_factory.mktemp("softmax-reports")
    api.grade([subs], assignment="softmax_gradients", out_dir=out, jobs=2, limits=TEST_LIMITS)
    return out


@pytest.fixture(scope="session")
def rnn_class(tmp_path_factory) -> Path:
    """examples/rnn_bptt graded by ``api.grade`` (per-key tests)."""
    out = tmp_path_factory.mktemp("rnn-reports")
    api.grade([ROOT / "examples" / "rnn_bptt"], assignment="rnn_bptt", out_dir=out, jobs=2, limits=TEST_LIMITS)
    return out


# --- synthesised reports -----------------------------------------------------------------------------

def make_report(student: str, *, score: float = 0.0, hints: list[tuple[str, str]] = (), status: str = "graded",
                message: str | None = None) -> Report:
    """A report with one test per hint (failed, carrying it) and one passed test worth ``score``."""
    tests = [TestResult(id="softmax/public", function="softmax", visibility="public", status="passed",
                        score=score, max_score=score, message="right on all 4 cases", cases=4)]
    for code, words in hints:
        tests.append(TestResult(id="softmax_jacobian/public", function="softmax_jacobian", visibility="public",
                                status="failed", score=0.0, max_score=100.0 - score, cases=3,
                                message="wrong on 3 of 3 cases", hints=[Hint(code=code, message=words,
                                                                             evidence=Evidence(matched_cases=3, of=3))]))
    if status == "error":
        tests = []
    return Report(assignment="softmax_gradients", student=student,
                  submission=SubmissionInfo(path=f"{student}.py", sha256="0" * 64, kind="py"), status=status,
                  score=score if status == "graded" else 0.0, max_score=100.0, message=message, tests=tests,
                  hints=[HintSummary(code=c, message=m, function="softmax_jacobian") for c, m in hints],
                  grader=GraderInfo(version=__version__, sandbox="bwrap"))


def write_reports(folder: Path, reports: list[Report]) -> dict[str, Report]:
    """Write reports as ``grader grade`` names them; returns them by stem."""
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    by_stem = {}
    for report in reports:
        stem = safe_name(report.student, taken)
        write_atomic(folder / f"{stem}.json", report.model_dump_json())
        by_stem[stem] = report
    return by_stem


@pytest.fixture(scope="session")
def hostile_class(tmp_path_factory) -> Path:
    """Reports whose student id and hint message carry scripts, beside ordinary ones; pages built."""
    from grader.report.html import build_site

    folder = tmp_path_factory.mktemp("hostile")
    write_reports(folder, [
        make_report(HOSTILE_ID, score=40.0, hints=[("jacobian.diagonal_only", HOSTILE_HINT)]),
        make_report("alice", score=90.0),
        make_report("bob", score=10.0, hints=[("jacobian.diagonal_only", "Only the diagonal p_i(1 - p_i).")]),
    ])
    build_site(folder)
    return folder


# --- the browser -------------------------------------------------------------------------------------

@dataclass
class Guard:
    """What a page asked for: files under ``allowed`` are served, everything else is refused and kept."""

    allowed: tuple[str, ...]
    refused: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    def __call__(self, route) -> None:
        url = route.request.url
        if url.startswith(self.allowed):
            self.served.append(url)
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    """One headless Chromium for the session, with a new empty profile."""
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium found (GRADER_CHROMIUM, /usr/bin/chromium or chromium on PATH): "
                    "scripts/setup.sh installs Debian's chromium when run as root")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=executable, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1200, "height": 900})
        context.set_default_timeout(15_000)
        yield context
        context.close()


@pytest.fixture
def open_page(browser_context):
    """``open_page(path, *allowed_dirs)``: the page at ``path`` (file://), network blocked; returns (page, guard).

    The page records Content-Security-Policy violations in ``window.__csp`` and any ``pwned`` global
    stays undefined unless a script of the page's own sets it.
    """
    pages = []

    def open_(path: Path, *allowed: Path):
        dirs = tuple(d.resolve().as_uri() + "/" for d in (path.parent, *allowed))
        guard = Guard(dirs)
        page = browser_context.new_page()
        page.route("**/*", guard)
        page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                             " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        page.goto(path.resolve().as_uri())
        pages.append(page)
        return page, guard

    yield open_
    for page in pages:
        page.close()


@pytest.fixture
def screenshot_path(tmp_path):
    """Where a test saves a screenshot: GRADER_SCREENSHOT_DIR when set (kept), else the test's tmp folder."""
    folder = Path(os.environ.get("GRADER_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return lambda name: folder / name
