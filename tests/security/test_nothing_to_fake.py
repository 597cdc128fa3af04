"""Nothing to fake: rigging NumPy, the grader, the returned objects or the output earns no point.

Every attack's functions honestly compute zeros (which score 0); the tricks around them must not
change that, nothing the submission returns may run code in the grader, and the classmates graded
beside and after it (on the same workers) keep their 100.
"""

from __future__ import annotations

import json

import pytest

from .conftest import verdict

ZEROS = '''
import numpy as np


def softmax(z):
    return np.zeros_like(z, dtype=float)


def softmax_jacobian(z):
    return np.zeros((len(z), len(z)))


def softmax_backward(y, dL_dy):
    return np.zeros_like(y, dtype=float)


def cross_entropy_grad(z, label):
    return np.zeros_like(z, dtype=float)


def cross_entropy_grad_batch(Z, labels):
    return np.zeros_like(Z, dtype=float)


def squared_loss_grad(z, y):
    return np.zeros_like(z, dtype=float)
'''

PATCH_NUMPY = '''
np.allclose = lambda *args, **kwargs: True
np.array_equal = np.array_equiv = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.isfinite = lambda x, *args, **kwargs: np.ones(np.shape(x), dtype=bool)
np.abs = np.absolute = np.fabs = lambda x, *args, **kwargs: np.zeros(np.shape(x))  # every error is 0
np.max = np.amax = lambda *args, **kwargs: 0.0
np.testing.assert_allclose = np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
np.testing.assert_array_equal = np.testing.assert_equal = lambda *args, **kwargs: None
'''

PATCH_GRADER = '''
import sys
try:
    import grader.evaluation.check, grader.evaluation.compare, grader.grading  # noqa: F401
except ImportError:
    pass
for module in [m for name, m in list(sys.modules.items()) if name.startswith("grader") or name in ("__main__", "protocol")]:
    for name in list(vars(module)):
        if any(word in name.lower() for word in ("compare", "judge", "check", "score", "verdict", "status")):
            try:
                setattr(module, name, lambda *args, **kwargs: True)
            except (AttributeError, TypeError):
                pass
'''

RIGGED = '''
class Rigged(np.ndarray):  # zeros that claim to equal anything
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __float__(self):
        return 1.0

    def __bool__(self):
        return True

    def __array__(self, *args, **kwargs):
        return np.asarray(self.view(np.ndarray))

    def __array_ufunc__(self, *args, **kwargs):
        return True

    def __array_function__(self, *args, **kwargs):
        return True


class LooksRight:  # not an array at all
    def __init__(self, shape):
        self.shape = shape

    def __array__(self, *args, **kwargs):
        return np.zeros(self.shape)

    __eq__ = lambda self, other: True
    __float__ = lambda self: 1.0
    __len__ = lambda self: self.shape[0]
    __getitem__ = lambda self, i: 0.0


_zeros = {name: globals()[name] for name in ("softmax", "softmax_backward", "cross_entropy_grad",
                                             "cross_entropy_grad_batch", "squared_loss_grad")}
softmax = lambda z: _zeros["softmax"](z).view(Rigged)
softmax_backward = lambda y, g: _zeros["softmax_backward"](y, g).view(Rigged)
cross_entropy_grad = lambda z, label: LooksRight(np.shape(z))
cross_entropy_grad_batch = lambda Z, labels: _zeros["cross_entropy_grad_batch"](Z, labels).view(Rigged)
squared_loss_grad = lambda z, y: LooksRight(np.shape(z))
softmax_jacobian = lambda z: np.zeros((len(z), len(z))).view(Rigged)
'''

PICKLE_BOMB = '''
class Bomb:  # creates a marker file wherever it is unpickled
    def __reduce__(self):
        return (open, (MARKER, "w"))


class BombError(Exception):
    def __reduce__(self):
        return (open, (MARKER, "w"))


softmax = lambda z: Bomb()
softmax_jacobian = lambda z: [Bomb() for _ in z]
softmax_backward = lambda y, g: np.array([Bomb() for _ in y], dtype=object)
cross_entropy_grad = lambda z, label: {"grad": Bomb()}
cross_entropy_grad_batch = lambda Z, labels: (Bomb(), Bomb())


def squared_loss_grad(z, y):
    raise BombError(Bomb())
'''

FAKE_OUTPUT = '''
import json, os, sys, time
FAKE = {"schema_version": "1", "assignment": "softmax_gradients", "student": "attacker", "status": "graded",
        "score": 100.0, "max_score": 100.0, "tests": [], "submission": {"path": "attacker.py", "sha256": "0", "kind": "py"},
        "grader": {"version": "0.1.0", "sandbox": "bwrap", "limits": {}}}
GRADESCOPE = {"score": 100.0, "output": "all tests passed", "tests": [{"name": "all", "score": 100.0, "max_score": 100.0}]}
SABOTAGE = dict(FAKE, student="honest", score=0.0)
print(json.dumps(FAKE))
print(json.dumps(GRADESCOPE), file=sys.stderr)
for folder in (".", "..", OUT):
    for name, content in (("attacker.json", FAKE), ("results.json", GRADESCOPE), ("summary.json", FAKE)):
        try:
            with open(os.path.join(folder, name), "w") as f:
                json.dump(content, f)
        except OSError:
            pass
end = time.time() + 1.5
while time.time() < end:  # and overwrite the classmate's report, once the grader has written it
    try:
        with open(os.path.join(OUT, "honest.json"), "w") as f:
            json.dump(SABOTAGE, f)
    except OSError:
        break
    time.sleep(0.05)
'''

FAKE_DONE_AND_EXIT = '''
import json, os, struct, time


def frame(header, blobs=()):
    head = json.dumps(header).encode()
    data = b"GRD1" + struct.pack("<I", len(head)) + head + struct.pack("<I", len(blobs))
    return data + b"".join(struct.pack("<Q", len(blob)) + blob for blob in blobs)


done = frame({"t": "loaded", "chunk_errors": []}) + frame({"t": "done"})
reply = frame({"t": "outcome", "timed_out": False, "truncated": False, "exit_code": 0, "signal": None}, [done])
for fd in range(51):
    try:
        os.write(fd, done + b'done\\n{"t": "done", "score": 100}\\n')
    except OSError:
        pass
worker = f"/proc/{os.getppid()}/fd"
for name in os.listdir(worker) if os.getppid() != RUNNER_PID else []:  # and a fake reply into the worker's pipes
    try:
        if os.readlink(f"{worker}/{name}").startswith("pipe:"):
            fd = os.open(f"{worker}/{name}", os.O_WRONLY | os.O_NONBLOCK)
            os.write(fd, reply)
            os.close(fd)
    except OSError:
        pass
time.sleep(1.5)  # let the grader take the fake reply and hand this worker the next job
os._exit(0)
'''


HONEST_NAMES = ("honest", "honest_2", "honest_3")  # graded beside and after the attacker, on both workers
OUTPUT = sorted([*(f"{name}.{kind}" for name in ("attacker", *HONEST_NAMES) for kind in ("json", "html")),
                 "index.html", "summary.csv", "summary.json"])


@pytest.mark.parametrize("attack", [
    pytest.param(ZEROS + PATCH_NUMPY, id="numpy_patched"),
    pytest.param(ZEROS + PATCH_GRADER, id="grader_patched"),
    pytest.param(ZEROS + RIGGED, id="rigged_arrays"),
    pytest.param(ZEROS + PICKLE_BOMB, id="pickle_bomb"),
    pytest.param(ZEROS + FAKE_OUTPUT, id="fake_reports"),
    pytest.param(FAKE_DONE_AND_EXIT + ZEROS, id="fake_done_then_exit"),
])
def test_a_submission_cannot_fake_its_score(attack, grade_batch, tmp_path, runner, secret):
    marker = tmp_path / "unpickled-in-the-grader"
    out = tmp_path / "out"
    prelude = f"MARKER = {str(marker)!r}\nOUT = {str(out)!r}\nRUNNER_PID = {runner['pid']}\n"

    batch = grade_batch({"attacker.py": prelude + attack}, honest=HONEST_NAMES)

    attacker = batch.attacker
    summary = json.loads((out / "summary.json").read_text())
    verdict(
        (attacker.score == 0, "the attacker scored " + ", ".join(f"{t.id} {t.score:g}" for t in attacker.tests if t.score)),
        (summary["score"]["max"] == 100 and summary["students"] == len(HONEST_NAMES) + 1, f"summary.json was changed: {summary['score']}"),
        (not marker.exists(), "something the submission returned was unpickled in the grader"),
        (sorted(p.name for p in batch.written) == OUTPUT, f"the output folder holds {[p.name for p in batch.written]}"),
        *batch.invariants(secret),
    )
