"""The worker empties the sandbox's /tmp after each job: all that a submission left, nothing mounted there."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WORKER_DIR = Path(__file__).resolve().parents[2] / "grader" / "sandbox"
BWRAP = shutil.which("bwrap")


def _bwrap(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    return subprocess.run([BWRAP, *user, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", *args],
                          capture_output=True, text=True, timeout=timeout)


def _python_under_tmp() -> list[str]:
    """This Python's environment bound again over the new /tmp, when it lies there (a clone in /tmp, in CI)."""
    prefix = os.path.abspath(sys.prefix)
    return ["--ro-bind", prefix, prefix] if prefix.startswith("/tmp/") else []


def _kept_for_python() -> list[str]:
    """The folder of /tmp that holds that mount point (kept by the emptying, like any other), if any."""
    return [os.path.abspath(sys.prefix).split("/")[2]] if _python_under_tmp() else []


def _as_sandbox_user(*args: str) -> subprocess.CompletedProcess:
    """bwrap in a user namespace of its own, without capabilities, as the sandbox runs for a user other
    than root: its /tmp is then the submission's own (uid 1000 inside stands for the caller outside)."""
    return subprocess.run([BWRAP, "--unshare-user", "--uid", "1000", "--gid", "1000", "--ro-bind", "/", "/",
                           "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", *_python_under_tmp(),
                           "--ro-bind", str(WORKER_DIR), "/tmp/code", *args], capture_output=True, text=True, timeout=60)


def _usable_as_sandbox_user() -> bool:
    return BWRAP is not None and _as_sandbox_user("--", sys.executable, "-I", "-c", "import numpy").returncode == 0


def _usable() -> bool:
    return BWRAP is not None and _bwrap("--tmpfs", "/tmp", *_python_under_tmp(), "--", sys.executable, "-I", "-c", "import numpy").returncode == 0


# As the worker leaves /tmp after a job whose submission wrote files, a folder nested deeper than
# Python's recursion limit, a path longer than PATH_MAX, folders it made unreadable, a link out of
# /tmp, and files beside a read-write mount point.
_JOB_LEFT_THIS = r"""
import json, os, sys
sys.path.insert(0, "/tmp/code")
import worker
open("/tmp/left.txt", "w").write("x")
open("/tmp/skel/beside.txt", "w").write("x")
deep = "/tmp/deep"
os.mkdir(deep)
for _ in range(1500):
    deep += "/d"
    os.mkdir(deep)
os.symlink("/tmp/skel/bound/keep.txt", "/tmp/link")
os.chdir("/tmp")
for _ in range(20):  # a path far past PATH_MAX, made one folder at a time
    os.mkdir("x" * 250)
    os.chdir("x" * 250)
open("bottom.txt", "w").write("x")
os.chdir("/")
os.makedirs("/tmp/locked/inner")
open("/tmp/locked/inner/secret.txt", "w").write("x")
os.chmod("/tmp/locked/inner", 0)
os.chmod("/tmp/locked", 0)
worker._empty("/tmp", 0o1777)
print(json.dumps({"tmp": sorted(os.listdir("/tmp")), "skel": sorted(os.listdir("/tmp/skel"))}))
"""


@pytest.mark.skipif(not _usable(), reason="bwrap cannot make a mount namespace here")
def test_emptying_tmp_removes_what_the_job_left_and_never_enters_a_mount_point(tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "keep.txt").write_text("the grader's own file")
    (host / "sub").mkdir()
    (host / "sub" / "also.txt").write_text("kept too")
    done = _bwrap("--tmpfs", "/tmp", *_python_under_tmp(), "--bind", str(host), "/tmp/skel/bound", "--ro-bind", str(WORKER_DIR), "/tmp/code",
                  "--", sys.executable, "-I", "-c", _JOB_LEFT_THIS)
    assert done.returncode == 0, done.stderr[-2000:]
    left = json.loads(done.stdout.strip().splitlines()[-1])
    # only the mount points and the folders holding one
    assert left == {"tmp": sorted(["code", "skel", *_kept_for_python()]), "skel": ["bound"]}
    assert (host / "keep.txt").read_text() == "the grader's own file"  # writable, yet not entered
    assert (host / "sub" / "also.txt").read_text() == "kept too"


def test_emptying_a_folder_on_one_file_system_removes_everything_but_follows_no_link(tmp_path):
    sys.path.insert(0, str(WORKER_DIR))  # as the worker imports itself
    try:
        import worker
    finally:
        sys.path.remove(str(WORKER_DIR))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("not the job's")
    job = tmp_path / "job"
    (job / "a" / "b").mkdir(parents=True)
    (job / "a" / "b" / "c.txt").write_text("x")
    (job / "top.txt").write_text("x")
    (job / "to_outside").symlink_to(outside)
    (job / "a" / "dangling").symlink_to(tmp_path / "nowhere")
    worker._empty(str(job), 0o700)
    assert job.is_dir() and list(job.iterdir()) == []
    assert (outside / "precious.txt").read_text() == "not the job's"


# A submission of a sandbox run in a user namespace owns the sandbox's /tmp: it may lock it for the next.
_JOB_LOCKED_TMP = r"""
import json, os, stat, sys
sys.path.insert(0, "/tmp/code")
import worker
os.makedirs("/tmp/locked/inner")
open("/tmp/locked/inner/secret.txt", "w").write("x")
open("/tmp/left.txt", "w").write("x")
os.chmod("/tmp/locked/inner", 0)
os.chmod("/tmp/locked", 0)
os.chmod("/tmp", 0)
try:
    os.listdir("/tmp")
    print("this user can read a folder of mode 0: nothing to test")
    sys.exit(3)
except PermissionError:
    pass
worker._empty("/tmp", 0o1777)
print(json.dumps({"tmp": sorted(os.listdir("/tmp")), "mode": stat.S_IMODE(os.stat("/tmp").st_mode)}))
"""


@pytest.mark.skipif(not _usable_as_sandbox_user(), reason="bwrap cannot make a user namespace here")
def test_a_tmp_the_submission_locked_is_opened_again_and_emptied():
    done = _as_sandbox_user("--", sys.executable, "-I", "-c", _JOB_LOCKED_TMP)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    left = json.loads(done.stdout.strip().splitlines()[-1])
    assert left == {"tmp": sorted(["code", *_kept_for_python()]), "mode": 0o1777}
