"""Saying what it did: every report names the sandbox it ran in and the limits it ran under."""

from __future__ import annotations

from .conftest import LIMITS, SANDBOXES, verdict


def test_every_report_names_its_sandbox_and_limits(grade_batch, secret):
    batch = grade_batch({
        "attacker.py": b"",  # never runs
        "crashes.py": "raise SystemExit('top-level code that stops')\n",
        "hangs.py": "import time\nwhile True:\n    time.sleep(0.1)\n",
    })

    assert set(batch.reports) == {"attacker", "crashes", "hangs", "honest"}
    checks = []
    for name, report in batch.reports.items():
        info = report.grader
        checks += [
            (info.sandbox in SANDBOXES, f"{name}: sandbox {info.sandbox!r}"),
            (all(info.limits.get(k) == v for k, v in LIMITS.describe().items()), f"{name}: limits {info.limits}"),
            (info.sandbox == "bwrap" or bool(info.sandbox_note), f"{name}: no sandbox, and no note saying why"),
        ]
    verdict(*checks, *batch.invariants(secret))
