"""Gradescope's autograder zip: ``setup.sh`` and ``run_autograder`` at its root, the grader, the references.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once as root on its
Ubuntu image, copies ``run_autograder`` to ``/autograder`` and runs it for every submission
(gradescope-autograders.readthedocs.io, "Autograder Specifications"). Inside:

- ``setup.sh``: installs bubblewrap and Python's venv with apt, then the grader's wheel into
  ``/opt/grader-venv`` (its dependencies come from PyPI while the image is built);
- ``run_autograder``: ``grader gradescope run`` on ``/autograder/submission``, and a results.json
  that says so even if the grader could not start;
- ``grader-<version>-py3-none-any.whl``: the grader itself;
- ``solutions/<assignment>.py`` (and ``_support.py``): the references, for the hidden tests. They
  stay in ``/autograder/source``, outside the sandbox that runs the student's code.
"""

from __future__ import annotations

import shlex
import tempfile
import zipfile
from pathlib import Path

from grader import exercises
from grader.errors import GraderError
from grader.evaluation.reference import find_solutions, load_reference, verify_reference
from grader.lms.gradescope import VISIBILITIES
from grader.lms.wheel import wheel_name, write_wheel, zip_entry

VENV = "/opt/grader-venv"

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu), from /autograder/source.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends bubblewrap python3 python3-venv python3-pip ca-certificates
python3 -m venv {venv}
{venv}/bin/pip install --quiet --upgrade pip
{venv}/bin/pip install --quiet ./{wheel}
{venv}/bin/grader --version
# Whether the bubblewrap sandbox works in this container (the log of the build says it):
{venv}/bin/python -c 'from grader import api; launcher = api.default_launcher(); print("sandbox:", launcher.name, launcher.note)' || true
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission, write /autograder/results/results.json.
# GRADER_GRADESCOPE_ROOT and GRADER_BIN exist to try the script outside Gradescope.
set -uo pipefail
ROOT="${{GRADER_GRADESCOPE_ROOT:-/autograder}}"
GRADER="${{GRADER_BIN:-{venv}/bin/grader}}"
mkdir -p "$ROOT/results"
"$GRADER" gradescope run -a {assignment} --root "$ROOT" --solutions "$ROOT/source/solutions" \\
    --visibility-hidden {visibility}{unsafe}
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    cat > "$ROOT/results/results.json" <<'JSON'
{{"score": 0.0, "output": "The autograder could not start, so this submission was not graded. Please tell your instructor.", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}}
JSON
fi
echo "grader exited with status $status"
exit 0
"""


def build_bundle(out: Path, *, assignment: str, solutions: str | Path | None = None,
                 hidden_visibility: str = "after_published", unsafe_no_sandbox: bool = False) -> list[str]:
    """Write the autograder zip to ``out``; return the names of its entries.

    The references are checked against finite differences first, so a broken one is never shipped.
    ``unsafe_no_sandbox`` lets the run go on as root without bubblewrap (where Gradescope's container
    does not allow it); the student's code could then read the references inside that container.
    """
    if hidden_visibility not in VISIBILITIES:
        raise GraderError(f"--visibility-hidden must be one of {', '.join(VISIBILITIES)}")
    try:
        exercise = exercises.get(assignment)
    except KeyError as exc:
        raise GraderError(str(exc.args[0])) from None
    folder = find_solutions(solutions)
    problems = verify_reference(exercise, load_reference(exercise, folder))
    if problems:
        raise GraderError("the reference solution disagrees with finite differences:\n" + "\n".join(problems[:10]))
    references = [p for p in (folder / f"{assignment}.py", folder / f"{assignment}_support.py") if p.is_file()]
    setup = SETUP.format(venv=VENV, wheel=wheel_name())
    run = RUN.format(venv=VENV, assignment=shlex.quote(assignment), visibility=hidden_visibility,
                     unsafe=" --unsafe-no-sandbox" if unsafe_no_sandbox else "")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-bundle-") as scratch:
        wheel = write_wheel(Path(scratch))
        entries = [("setup.sh", setup.encode(), 0o755), ("run_autograder", run.encode(), 0o755),
                   (wheel.name, wheel.read_bytes(), 0o644)]
        entries += [(f"solutions/{p.name}", p.read_bytes(), 0o644) for p in references]
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data, mode in entries:
                zf.writestr(zip_entry(name, mode), data)
    return [name for name, _, _ in entries]
