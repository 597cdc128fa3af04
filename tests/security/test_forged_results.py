"""Forged or odd frames on the results channel, and odd strings, never stop the batch or change others."""

from __future__ import annotations

import resource

import pytest

from tests.security.conftest import HONEST, verdict

FORGE = '''
import os, sys
protocol = sys.modules["protocol"]
fd = next(n for n in range(3, 64) if os.path.exists(f"/proc/self/fd/{n}"))
os.write(fd, protocol.pack_frame({FRAME}))
'''

FRAMES = {
    "function_is_a_list": '{"t": "result", "function": [], "case": 0}',
    "huge_integer_duration": '{"t": "result", "function": "softmax", "case": 0, "status": "ok", "duration_s": 10**400, '
                             '"value": {"t": "none"}}',
    "shape_that_wraps_around": '{"t": "result", "function": "softmax", "case": 0, "status": "ok", '
                               '"value": {"t": "array", "dtype": "<f8", "shape": [2**21] * 4, "blob": 0}}, [b""]',
    "plain_column_that_wraps_around": '{"t": "results", "function": "softmax", "index": 0, "cases": [], '
                                      '"plain": [[0], [0.0], [[2**21] * 4], 0]}, [b""]',
    "nested_dict_value": '{"t": "result", "function": "softmax", "case": 0, "status": "ok", '
                         '"value": {"t": "dict", "items": [["W", {"t": "dict", "items": []}]]}}',
}


@pytest.mark.parametrize("frame", list(FRAMES.values()), ids=list(FRAMES))
def test_a_forged_frame_is_the_forgers_problem_only(grade_batch, frame):
    source = HONEST + FORGE.replace("{FRAME}", frame)
    batch = grade_batch({"attacker.py": source}, honest=("aaron", "abby"))
    verdict(
        (batch.attacker.score < 100 or batch.attacker.status == "graded", "no report for the forger"),
        (all(batch.reports[h].score == 100 for h in batch.honest), "an honest submission lost points"),
    )


def test_a_lone_surrogate_in_an_error_message_still_gives_a_report(grade_batch):
    source = 'def softmax(z):\n    raise ValueError(b"\\xff".decode("utf-8", "surrogateescape"))\n'
    batch = grade_batch({"attacker.py": source})
    verdict(
        (batch.attacker.status == "graded", "the report was not written"),
        ("ValueError" in batch.attacker.tests[0].message, batch.attacker.tests[0].message),
        (all(batch.reports[h].score == 100 for h in batch.honest), "an honest submission lost points"),
    )


def test_closing_its_results_channel_does_not_make_the_grader_spin(grade_batch):
    source = "import os, time\nos.closerange(3, 1 << 16)\ntime.sleep(3)\n"
    before = resource.getrusage(resource.RUSAGE_SELF)
    batch = grade_batch({"attacker.py": source})
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    verdict(
        (cpu < 2.5, f"the grader used {cpu:.1f} s of CPU while the submission slept 3 s"),
        (all(batch.reports[h].score == 100 for h in batch.honest), "an honest submission lost points"),
    )
