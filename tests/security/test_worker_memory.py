"""The long-lived worker's memory can be neither read nor written by the submissions it forks."""

from __future__ import annotations

import pytest

from tests.security.conftest import verdict

PROBE = '''
import os

def softmax(z):
    call_process_parent = os.getppid()
    status = open(f"/proc/{call_process_parent}/status").read()
    worker = int(next(l for l in status.splitlines() if l.startswith("PPid")).split()[1])
    try:
        os.open(f"/proc/{worker}/mem", os.O_RDWR)
    except OSError as exc:
        raise RuntimeError(f"REFUSED {type(exc).__name__}")
    raise RuntimeError("OPENED-THE-WORKER")
'''


def test_a_submission_cannot_open_its_workers_memory(grade_batch):
    batch = grade_batch({"attacker.py": PROBE})
    if batch.attacker.grader.sandbox != "bwrap":
        pytest.skip("without the bubblewrap sandbox the worker is not a separate, protected process")
    message = next(t.message for t in batch.attacker.tests if t.function == "softmax")
    verdict(
        ("REFUSED" in message, f"the submission opened its worker's memory: {message}"),
        (all(batch.reports[h].score == 100 for h in batch.honest), "an honest submission lost points"),
    )
