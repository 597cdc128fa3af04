"""Nothing to break: a submission that kills, floods, fills or hangs loses its own points, says so, and nothing else.

Each attack runs at module level (``PRELUDE + attack + HONEST``) or as the body of
softmax_jacobian (``PRELUDE + HONEST + def softmax_jacobian``). Two honest submissions share the
batch: one runs beside the attack, the other after it (two workers). Every attack is bounded and
tags its processes (their /proc/PID/comm) so that the ``tag`` fixture can kill what is left.
"""

from __future__ import annotations

import re
import resource
import textwrap
from pathlib import Path

import pytest

from .conftest import HONEST, sandbox_leftovers, survivors, verdict

PRELUDE = '''
import os, signal, sys, time
TAG, MARKER = {tag!r}, {marker!r}
RUNNER = {runner!r}
try:
    with open("/proc/self/comm", "w") as f:  # lets the test find what is left of this attack
        f.write(TAG)
except OSError:
    pass


def not_the_runner(what):
    """Refuse an attack that would hit the test runner itself (no sandbox between us)."""
    hits = {{"everyone": os.getuid() == RUNNER["uid"] and os.readlink("/proc/self/ns/pid") == RUNNER["pidns"],
            "group": os.getpgrp() == RUNNER["pgrp"], "parent": os.getppid() == RUNNER["pid"]}}
    if hits[what]:
        raise RuntimeError(f"NOT TRIED: it would hit the test runner ({{what}})")
'''

KILL_PARENT = 'not_the_runner("parent")\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(2)\n'
KILL_GROUP = 'not_the_runner("group")\nos.killpg(0, signal.SIGKILL)\ntime.sleep(2)\n'
KILL_ALL = 'not_the_runner("everyone")\nos.kill(-1, signal.SIGKILL)\ntime.sleep(2)\n'

DAEMON = '''
if os.fork() == 0:  # double fork, new session, then a sleeper that writes outside after 30 s
    try:
        os.setsid()
        if os.fork() == 0:
            code = "import time; time.sleep(30); open(%r, 'w').write('the daemon survived')" % MARKER
            os.execve(sys.executable, [sys.executable, "-c", code, TAG], {"ATTACK_TAG": TAG})
    finally:
        os._exit(0)
'''

GARBAGE = '''
junk = b"GRD1\\xff\\xff\\xff\\x7f" + bytes(range(256)) * 64
for fd in range(1024):
    try:
        os.write(fd, junk)
    except OSError:
        pass
'''

FORK_BOMB = '''
deadline, children = time.time() + 20, 0
while children < 2000:  # bounded: at most 2000 processes, each gone after 20 s
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(max(0.0, deadline - time.time()))
        os._exit(0)
    children += 1
while time.time() < deadline:
    time.sleep(0.1)
'''

MEMORY_BOMB = '''
import numpy as np
hoard = [np.ones(100 << 17) for _ in range(40)]  # 4 GB in 100 MB chunks, every page touched
'''

DISK_FILL = '''
block = b"x" * (8 << 20)
for folder in ("/tmp", os.getcwd()):  # 2 x 31 files of 8 MB: about 500 MB
    for i in range(31):
        with open(os.path.join(folder, f"{TAG}-{i}"), "wb") as f:
            f.write(block)
'''

PRINT_FLOOD = '''
line = "x" * (1 << 20)
for _ in range(300):  # 300 MB on stdout
    print(line)
print(line, file=sys.stderr)
'''

FLOOD_CHANNEL = '''
import json, struct
head = json.dumps({"t": "loaded", "chunk_errors": []}).encode()
frame = b"GRD1" + struct.pack("<I", len(head)) + head + struct.pack("<IQ", 1, 1 << 20) + bytes(1 << 20)
sent = 0
for fd in range(3, 1024):  # well-formed frames, 300 MB in all, into whatever fd leads to the grader
    try:
        while sent < 300:
            os.write(fd, frame)
            sent += 1
    except OSError:
        pass
'''

IGNORE_SIGTERM = '''
signal.signal(signal.SIGTERM, signal.SIG_IGN)
end = time.time() + 30
while time.time() < end:
    time.sleep(0.05)
'''

SIGSTOP = 'os.kill(os.getpid(), signal.SIGSTOP)\n'
SEGFAULT = 'import ctypes\nctypes.string_at(0)\n'

KILLED = r"killed|signal|process|died"
ATTACKS = [  # (code, where, words that must name the problem, may it be harmless)
    # in the sandbox the worker is its PID namespace's init, which the kernel keeps this signal from: no effect
    pytest.param(KILL_PARENT, "module", KILLED, True, id="kill_parent_module"),
    pytest.param(KILL_PARENT, "function", KILLED, True, id="kill_parent_function"),
    pytest.param(KILL_GROUP, "module", KILLED, False, id="kill_group_module"),
    pytest.param(KILL_GROUP, "function", KILLED, False, id="kill_group_function"),
    pytest.param(KILL_ALL, "module", KILLED, False, id="kill_everyone_module"),
    pytest.param(KILL_ALL, "function", KILLED, False, id="kill_everyone_function"),
    pytest.param(DAEMON, "module", KILLED, True, id="daemon"),
    pytest.param(GARBAGE, "module", r"garbage|channel", False, id="garbage_into_every_fd"),
    pytest.param(FORK_BOMB, "module", r"time limit|process", False, id="fork_bomb"),
    pytest.param(MEMORY_BOMB, "module", r"memory", False, id="memory_bomb"),
    pytest.param(DISK_FILL, "module", r"disk|space|file size", True, id="disk_fill"),
    pytest.param(PRINT_FLOOD, "module", r"output|channel", True, id="print_300_mb"),
    pytest.param(FLOOD_CHANNEL, "module", r"output|channel|garbage|allowed", False, id="flood_the_results_channel"),
    pytest.param(IGNORE_SIGTERM, "function", r"time limit", False, id="ignore_sigterm_and_sleep"),
    pytest.param(SIGSTOP, "function", r"time limit", False, id="sigstop_itself"),
    pytest.param(SEGFAULT, "function", r"signal|segmentation", False, id="segfault"),
]


def _said(report, where: str, words: str, harmless_ok: bool) -> tuple[bool, str]:
    """Does the attacker's report say what happened, in plain words?"""
    if report.status == "error":
        return bool(re.search(words, report.message or "", re.IGNORECASE)), f"the attacker's report says: {report.message}"
    if where == "function":
        hit = [t for t in report.tests if t.function == "softmax_jacobian"]
        said = all(t.status in ("error", "timeout") for t in hit) and any(re.search(words, t.message, re.IGNORECASE) for t in hit)
        # the attack did nothing: then what follows it ran, its sleep (past the time limit) or ``return z``
        unharmed = harmless_ok and all(t.status in ("timeout", "failed") for t in hit)
        return said or unharmed, "the attacked tests say: " + " | ".join(f"{t.id} {t.status}: {t.message}" for t in hit[:3])
    return harmless_ok and report.score == 100, f"the attacker was graded {report.score} with no word of the attack"


@pytest.mark.parametrize("attack, where, words, harmless_ok", ATTACKS)
def test_a_submission_breaks_nothing_but_itself(attack, where, words, harmless_ok, grade_batch, tmp_path, tag,
                                                runner, secret, capfd):
    marker = tmp_path / "daemon-was-here"
    prelude = PRELUDE.format(tag=tag, marker=str(marker), runner=runner)
    if where == "module":
        source = prelude + attack + HONEST
    else:
        source = prelude + HONEST + "\n\ndef softmax_jacobian(z):\n" + textwrap.indent(attack, "    ") + "    return z\n"

    after_its_job = {"processes": [], "files": []}  # what is left once its report is written (the batch goes on)

    def on_report(report, *_):  # (report) or (report, reused), as api.grade calls it
        if report.student == "attacker":
            after_its_job.update(processes=survivors(tag), files=sandbox_leftovers(tag))

    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
    batch = grade_batch({"attacker.py": source}, honest=("honest", "honest_2"), on_report=on_report)
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10) - peak_before

    attacker = batch.attacker
    said, what = _said(attacker, where, words, harmless_ok)
    left = survivors(tag)
    printed = sum(map(len, capfd.readouterr()))
    verdict(
        ("NOT TRIED" not in batch.text, ("the attack was not tried: it would have hit the test runner itself "
                                         "(the submission runs as its user, in its PID namespace: no sandbox)")),
        (said, what),
        (not after_its_job["processes"], f"{len(after_its_job['processes'])} processes of the attack outlived its job"),
        (not after_its_job["files"], (f"{len(after_its_job['files'])} files of the attack stay in its worker's /tmp "
                                      f"for the submissions graded after it: {after_its_job['files'][:3]}")),
        (not left, f"{len(left)} processes of the attack outlived the batch"),
        (not marker.exists(), "the attack wrote a file outside the sandbox"),
        (not list(Path("/tmp").glob(f"*{tag}*")), "the attack left files in the host's /tmp"),
        (printed < 1 << 20, f"{printed} bytes reached the grader's own stdout/stderr"),
        (grew < 200, f"the grader's own memory peak grew by {grew} MB"),
        *batch.invariants(secret),
    )
