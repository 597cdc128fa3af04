"""Nothing to find: a submission that looks for the answers or for secrets finds nothing it can use or show.

Each attack defines ``find()`` and gets ``LEAK`` appended: what it found is shown through every
channel a student controls (an error message, a type name, an "unreadable" reason), used as code
if it is code (a stolen solution earns points), and one bit of it goes out through the score.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import HONEST, REFERENCE, ROOT, verdict

LEAK = '''
try:
    FOUND = str(find())
except Exception:
    FOUND = ""
SHOWN = FOUND[max(FOUND.find(TARGET), 0):]  # the interesting part first
STOLEN = {}
try:
    exec(FOUND, STOLEN)  # a solution or a classmate's file: use it
except BaseException:
    pass


def softmax(z):  # shown through an error message
    raise RuntimeError(SHOWN[:300] or "found nothing")


class Carrier:  # shown through a type name and the reason the value cannot be read
    def __array__(self, *args, **kwargs):
        raise ValueError(SHOWN[300:600])


Carrier.__name__ = SHOWN.replace("\\0", "")[:100] or "Carrier"


def softmax_jacobian(z):
    return Carrier()


def softmax_backward(y, dL_dy):  # one bit through the score: right only if it found what it looked for
    if TARGET in FOUND:
        s = y * dL_dy
        return s - s.sum() * y
    return np.zeros_like(y)


def _stolen(name, *args):
    if callable(STOLEN.get(name)):
        return STOLEN[name](*args)
    return np.zeros_like(args[0], dtype=float)


def cross_entropy_grad(z, label):
    return _stolen("cross_entropy_grad", z, label)


def cross_entropy_grad_batch(Z, labels):
    return _stolen("cross_entropy_grad_batch", Z, labels)


def squared_loss_grad(z, y):
    return _stolen("squared_loss_grad", z, y)
'''

READ_FILE = '''
import numpy as np
TARGET = {target!r}


def find():
    with open({path!r}, errors="replace") as f:
        return f.read()
'''

READ_OUT_DIR = '''
import os
import numpy as np
TARGET = "secret-outdir"
OUT = {out!r}


def find():
    try:
        with open(os.path.join(OUT, "planted.json"), "w") as f:  # and leave something there
            f.write('{{"score": 100}}')
    except OSError:
        pass
    found = [repr(os.listdir(OUT))]
    for name in os.listdir(OUT):
        with open(os.path.join(OUT, name), errors="replace") as f:
            found.append(f.read())
    return " ".join(found)
'''

MEMORY = '''
import os
import time
import numpy as np


def memory(pid, seconds=2.0):
    """The writable memory of a process (heap, stack...), in chunks of at most 4 MB."""
    deadline = time.time() + seconds
    try:
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
    except OSError:
        return
    with mem:
        for line in maps:
            where, perms = line.split()[:2]
            if not perms.startswith("rw"):
                continue
            start, end = (int(x, 16) for x in where.split("-"))
            for at in range(start, min(end, start + (256 << 20)), 4 << 20):
                if time.time() > deadline:
                    return
                try:
                    mem.seek(at)
                    yield mem.read(min(4 << 20, end - at))
                except OSError:
                    break


def ancestors():
    pid = os.getpid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/status") as f:
                pid = int(f.read().split("PPid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            return
        yield pid
'''

READ_ENVIRONMENT = MEMORY + '''
TARGET = "LMS_TOKEN="


def find():
    hits = []
    for pid in os.listdir("/proc"):  # every process's environment
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                hits += [v.decode(errors="replace") for v in f.read().split(b"\\0") if v.startswith(b"LMS_TOKEN")]
        except OSError:
            pass
    for pid in ancestors():  # the memory of the worker, then of the grader itself
        for chunk in memory(pid):
            i = chunk.find(b"\\0LMS_TOKEN=")  # a C string, not the text of this file
            while i >= 0:
                hits.append(chunk[i + 1:i + 80].split(b"\\0")[0].decode(errors="replace"))
                i = chunk.find(b"\\0LMS_TOKEN=", i + 1)
    return " ".join(hits) + " " + repr(dict(os.environ))
'''

READ_CLASSMATES_MEMORY = MEMORY + '''
TARGET = "def "
NAMES = ("softmax", "softmax_jacobian", "softmax_backward", "cross_entropy_grad", "cross_entropy_grad_batch",
         "squared_loss_grad")
MINE = ("SHOWN", "Carrier", "TARGET", "_stolen")  # words of this file's own functions


def find():
    """Code of the classmates graded before us by this worker: we are a fork of it, with its old buffers."""
    blocks = set()
    for pid in ("self", *ancestors()):
        for chunk in memory(pid):
            for name in NAMES:
                needle = ("\\ndef " + name + "(").encode()
                i = chunk.find(needle)
                while i >= 0:
                    block = chunk[i + 1:i + 3000].split(b"\\n\\n")[0].decode(errors="replace")
                    i = chunk.find(needle, i + 1)
                    if not any(word in block for word in MINE):
                        try:
                            compile(block, "stolen", "exec")
                            blocks.add(block)
                        except (SyntaxError, ValueError):
                            pass
    return "import numpy as np\\n\\n" + "\\n\\n".join(sorted(blocks)) if blocks else ""
'''


def _lines(text: str, *exclude: str) -> list[str]:
    """Distinctive lines of ``text``: long enough, and in none of ``exclude`` (nor in the grader's own sources)."""
    known = "\n".join(p.read_text() for p in (ROOT / "grader").rglob("*.py")) + "\n".join(exclude)
    return [s for line in text.splitlines() if len(s := line.strip()) >= 20 and s not in known]


def _solution_lines() -> list[str]:
    """The reference's solution code (between its markers); the template students get is not secret."""
    text = REFERENCE.read_text()
    blocks = [part.split("### END SOLUTION")[0] for part in text.split("### BEGIN SOLUTION")[1:]]
    return _lines("\n".join(blocks), HONEST, LEAK)


@pytest.mark.parametrize("attack", [
    pytest.param("reference", id="reference_solution"),
    pytest.param("classmate_file", id="classmate_file_in_the_batch_folder"),
    pytest.param("classmate_memory", id="classmate_code_in_the_workers_memory"),
    pytest.param("out_dir", id="output_folder"),
    pytest.param("shadow", id="etc_shadow"),
    pytest.param("environment", id="instructor_environment"),
])
def test_a_submission_finds_nothing_to_show_or_use(attack, grade_batch, tmp_path, secret):
    out = tmp_path / "out"
    outdir_secret = "secret-outdir-" + secret[-12:]
    honest = ("aaron", "abby")  # graded before the attacker: it runs on a worker that has served one of them
    if attack == "reference":
        source, hidden = READ_FILE.format(target="### BEGIN SOLUTION", path=str(REFERENCE)), _solution_lines()
    elif attack == "classmate_file":
        source, hidden = READ_FILE.format(target="def softmax", path=str(tmp_path / "batch" / "aaron.py")), _lines(HONEST, LEAK)
    elif attack == "classmate_memory":
        source, hidden = READ_CLASSMATES_MEMORY, _lines(HONEST, LEAK)
    elif attack == "out_dir":
        source, hidden = READ_OUT_DIR.format(out=str(out)), [outdir_secret, "earlier.json"]
    elif attack == "shadow":
        shadow = Path("/etc/shadow").read_text()
        source, hidden = READ_FILE.format(target="root:", path="/etc/shadow"), [s for s in shadow.splitlines() if len(s) >= 8]
    else:
        source, hidden = READ_ENVIRONMENT, [secret]
    assert hidden, "nothing to look for"

    batch = grade_batch({"attacker.py": source + LEAK}, honest=honest,
                        seed_out={"earlier.json": f'{{"student": "earlier", "note": "{outdir_secret}"}}'})

    attacker = batch.attacker
    text = batch.text
    shown = [h for h in hidden if h in text]
    verdict(
        (attacker.score == 0, f"the attacker scored {attacker.score} (it found something it could use): "
                              + ", ".join(f"{t.id} {t.score:g}" for t in attacker.tests if t.score)),
        (not shown, f"a report shows what the attacker found: {shown[:3]}"),
        *batch.invariants(secret),
    )
