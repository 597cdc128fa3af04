"""Tests of the bubblewrap sandbox for grader workers (grader/sandbox/bwrap.py)."""
from __future__ import annotations

import errno
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import alive

REPO = Path(__file__).resolve().parents[2]
WORKER_DIR = REPO / "grader" / "sandbox"

try:
    from grader.sandbox import bwrap as sb
except ImportError:  # package __init__ files may not exist yet: load the module by path
    _spec = importlib.util.spec_from_file_location("grader_sandbox_bwrap", WORKER_DIR / "bwrap.py")
    assert _spec and _spec.loader
    sb = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = sb
    _spec.loader.exec_module(sb)

PROBE = sb.probe(sys.executable) if sys.platform.startswith("linux") else None
needs_bwrap = pytest.mark.skipif(
    PROBE is None or not PROBE.usable,
    reason=f"bwrap sandbox unusable here: {PROBE.reason if PROBE else 'not Linux'}")
CFG = sb.SandboxConfig(tmp_size_mb=8, shm_size_mb=4)


def run(code: str, config: sb.SandboxConfig = CFG, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python -I -c code`` in the sandbox and wait for it."""
    proc = sb.spawn([sys.executable, "-I", "-c", code], config, worker_dir=WORKER_DIR,
                    stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run_json(code: str, config: sb.SandboxConfig = CFG) -> object:
    """Run code that prints one JSON document as its last line and decode it."""
    res = run(code, config)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def descendants(pid: int) -> list[int]:
    """Host pids of all descendants of ``pid`` (scans /proc for PPid)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    ppid = next(line for line in f if line.startswith("PPid:"))
                parents[int(entry)] = int(ppid.split()[1])
            except (OSError, StopIteration):
                pass
    found, frontier = [], [pid]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier]
        found += kids
        frontier = kids
    return found


def status_field(pid: int, name: str) -> list[str]:
    """Values of one field of /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as f:
        return next(line for line in f if line.startswith(name + ":")).split()[1:]


@pytest.fixture
def sleeper():
    """A sandboxed python that forks a grandchild, prints 'ready' and sleeps."""
    code = ("import os, sys, time\n"
            "if os.fork() == 0:\n    time.sleep(120)\n    os._exit(0)\n"
            "print('ready', flush=True)\ntime.sleep(120)\n")
    proc = sb.spawn([sys.executable, "-I", "-c", code], CFG, worker_dir=WORKER_DIR,
                    stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


def test_config_rejects_too_small_address_space():
    with pytest.raises(ValueError):
        sb.SandboxConfig(as_mb=128)
    assert sb.SandboxConfig(as_mb=256).as_mb == 256


@needs_bwrap
def test_probe_is_cached_and_usable():
    assert sb.probe(sys.executable) is PROBE
    assert PROBE.usable and PROBE.reason == "ok"


def test_this_interpreters_paths_are_found_here_as_a_child_with_dash_i_finds_them(monkeypatch):
    import numpy  # noqa: F401 - as in the grader, where NumPy is loaded before the sandbox is started

    child = json.loads(subprocess.run([sys.executable, "-I", "-c", sb._PATHS_SCRIPT], capture_output=True,
                                      text=True, check=True).stdout)
    started = []
    monkeypatch.setattr(sb.subprocess, "run", lambda *a, **k: started.append(a) or pytest.fail("a child was started"))
    assert sb._interpreter_paths() == child
    here = sb.python_paths.__wrapped__(sys.executable)
    assert here[1] == child["multiarch"] and set(child["paths"]) <= set(here[0]) and not started


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="not run from a virtual environment")
def test_the_base_interpreter_of_this_venv_is_asked_of_itself():
    base = os.path.realpath(sys.executable)  # the interpreter this venv's python resolves to
    child = json.loads(subprocess.run([base, "-I", "-c", sb._PATHS_SCRIPT], capture_output=True, text=True,
                                      check=True).stdout)
    paths, _ = sb.python_paths.__wrapped__(base)
    assert set(child["paths"]) <= set(paths)
    assert not any(p.startswith(os.path.join(sys.prefix, "lib")) for p in paths)  # none of this venv's own


def test_another_interpreters_paths_are_asked_of_it(tmp_path):
    other = tmp_path / "python"
    other.write_text('#!/bin/sh\necho \'{"paths": ["/opt/other"], "multiarch": "m", "numpy": ""}\'\n')
    other.chmod(0o755)
    paths, multiarch = sb.python_paths.__wrapped__(str(other))
    assert multiarch == "m" and "/opt/other" in paths and str(other) in paths


@needs_bwrap
def test_argv_binds_nothing_broad():
    argv = sb.bwrap_argv([sys.executable, "-I", "-c", "pass"], CFG, worker_dir=WORKER_DIR)
    binds = [argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind", "--dev-bind")]
    assert "--ro-bind" in argv and "--bind" not in argv and "--dev-bind" not in argv
    for broad in ("/", "/usr", "/root", "/work", "/home", "/etc", str(REPO)):
        assert broad not in binds
    assert str(WORKER_DIR) in binds


@needs_bwrap
def test_numpy_imports_and_computes_with_only_std_fds():
    out = run_json(
        "import json, os, numpy as np\n"
        "a = np.random.default_rng(0).random((120, 120)) + 120 * np.eye(120)\n"
        "x = np.linalg.solve(a, a @ np.ones(120))\n"
        "fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))\n"
        "print(json.dumps([bool(np.allclose(x, 1)), (a @ a).shape, fds]))\n")
    ok, shape, fds = out
    assert ok and shape == [120, 120]
    assert fds[:3] == [0, 1, 2] and len(fds) == 4  # the 4th is listdir's own fd


@needs_bwrap
def test_host_filesystem_is_invisible_except_worker_dir():
    argv = sb.bwrap_argv([sys.executable, "-I", "-c", "pass"], CFG, worker_dir=WORKER_DIR)
    keep = [argv[i + 2] for i, a in enumerate(argv) if a == "--ro-bind"]
    hidden = ["/etc/passwd", "/etc/shadow", "/home", str(REPO / "tests"), str(REPO / ".git")]
    for d in ("/root", "/work", "/home", str(REPO), str(REPO.parent), "/etc", "/usr/bin", "/"):
        try:
            entries = os.listdir(d)
        except OSError:  # e.g. /root is unreadable when the tests run unprivileged
            continue
        for entry in entries:
            p = os.path.join(d, entry).replace("//", "/")
            if not any(k == p or k.startswith(p + "/") or p.startswith(k + "/") for k in keep):
                hidden.append(p)
    hidden = [h for h in hidden if os.path.lexists(h) and h not in ("/proc", "/dev", "/tmp")
              and not os.path.islink(h)]
    out = run_json(
        "import json, os, sys\n"
        f"hidden = {hidden!r}\n"
        f"wd = {str(WORKER_DIR)!r}\n"
        f"repo = {str(REPO)!r}\n"
        "print(json.dumps([[h for h in hidden if os.path.lexists(h)],\n"
        "                  os.path.isfile(os.path.join(wd, 'bwrap.py')), os.listdir(repo),\n"
        "                  os.access(wd, os.W_OK)]))\n")
    visible, worker_file_seen, repo_listing, wd_writable = out
    assert len(hidden) > 5
    assert visible == []
    venv = Path(sys.prefix).resolve()
    allowed = {"grader"} | ({venv.relative_to(REPO).parts[0]} if venv.is_relative_to(REPO) else set())
    assert worker_file_seen and set(repo_listing) == allowed and not wd_writable


@needs_bwrap
def test_only_tmp_is_writable():
    out = run_json(
        "import json\n"
        "def can_write(p):\n"
        "    try:\n"
        "        open(p, 'w').close()\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        f"print(json.dumps([can_write(p) for p in ('/x', '/usr/x', {str(WORKER_DIR / 'x')!r},\n"
        f"                  {os.path.join(sys.base_prefix, 'x')!r}, '/tmp/x', '/dev/shm/x')]))\n")
    assert out == [False, False, False, False, True, True]


_TRY_DEV = """
import json, os
def outcome(action):
    try:
        action()
        return "done"
    except OSError:
        return "refused"
def write(path):
    with open(path, "w") as f:
        f.write("x")
print(json.dumps({"chmod": outcome(lambda: os.chmod("/dev", 0o311)), "plant": outcome(lambda: write("/dev/planted")),
                  "null": outcome(lambda: write("/dev/null")), "shm": outcome(lambda: write("/dev/shm/x")),
                  "urandom": len(open("/dev/urandom", "rb").read(8))}))
"""


@needs_bwrap
@pytest.mark.parametrize("mode", ["as_this_user", "userns"])
def test_dev_cannot_be_changed_yet_its_devices_and_shm_work(mode, monkeypatch):
    if mode == "userns":  # as for a grader run by another user than root: /dev is then the sandbox user's
        monkeypatch.setattr(sb, "sandbox_mode", lambda: "userns")
    assert run_json(_TRY_DEV) == {"chmod": "refused", "plant": "refused", "null": "done", "shm": "done", "urandom": 8}


@needs_bwrap
def test_network_is_down():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        out = run_json(
            "import json, socket\n"
            "def try_connect(kind, addr):\n"
            "    try:\n"
            "        with socket.socket(socket.AF_INET, kind) as s:\n"
            "            s.settimeout(2); s.connect(addr)\n"
            "        return 'connected'\n"
            "    except OSError as e:\n"
            "        return e.errno\n"
            f"print(json.dumps([try_connect(socket.SOCK_STREAM, ('127.0.0.1', {port})),\n"
            "                  try_connect(socket.SOCK_DGRAM, ('1.1.1.1', 53)),\n"
            "                  [n for _, n in socket.if_nameindex()]]))\n")
    local, remote, ifaces = out
    # bwrap brings up a private lo in the new netns: the host's listener is unreachable
    assert local in (errno.ECONNREFUSED, errno.ENETUNREACH)
    assert remote == errno.ENETUNREACH
    assert ifaces == ["lo"]


@needs_bwrap
def test_pid_namespace_hides_host_processes():
    pid, procs = run_json(
        "import json, os\n"
        "print(json.dumps([os.getpid(), [p for p in os.listdir('/proc') if p.isdigit()]]))\n")
    assert pid in (1, 2)
    assert len(procs) <= 3  # bwrap's init, the python itself (and at most one more)
    assert all(int(p) <= 3 for p in procs)


@needs_bwrap
def test_environment_is_cleared(monkeypatch):
    monkeypatch.setenv("LMS_TOKEN", "s3cret-token")
    env = run_json("import json, os; print(json.dumps(dict(os.environ)))")
    assert "LMS_TOKEN" not in env
    assert all("s3cret" not in v for v in env.values())
    assert set(env) <= {"PATH", "PWD", *dict(sb.BASE_ENV)}  # bwrap sets PWD for --chdir
    assert env.get("PWD", "/tmp") == "/tmp"
    assert {k: env.get(k) for k, _ in sb.BASE_ENV} == dict(sb.BASE_ENV)


@needs_bwrap
@pytest.mark.parametrize("where", ["/tmp", "/dev/shm"])
def test_private_tmpfs_is_size_capped(where):
    res = run(
        "import errno\n"
        f"with open('{where}/small', 'wb') as f:\n    f.write(b'x' * (2 << 20))\n"
        "try:\n"
        f"    with open('{where}/big', 'wb') as f:\n"
        "        for _ in range(16):\n            f.write(b'x' * (1 << 20))\n"
        "except OSError as e:\n    print('full', e.errno == errno.ENOSPC)\n"
        "else:\n    print('wrote 16 MiB')\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["full", "True"]


@needs_bwrap
def test_runs_as_unprivileged_host_uid(sleeper):
    pythons = [p for p in descendants(sleeper.pid) if alive(p)
               and b"python" in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0]]
    assert len(pythons) == 2, pythons  # the sandboxed python and its forked child
    expected = sb.ensure_sandbox_user() or (os.getuid(), os.getgid())
    for p in pythons:
        uids, gids = status_field(p, "Uid"), status_field(p, "Gid")
        assert set(uids) == {str(expected[0])} and "0" not in uids
        assert set(gids) == {str(expected[1])} and "0" not in gids
        assert status_field(p, "CapEff") == ["0000000000000000"]
        assert status_field(p, "NoNewPrivs") == ["1"]


@needs_bwrap
def test_nproc_limit_is_enforced():
    res = run(
        "import os, time\nn = 0\n"
        "try:\n"
        "    for _ in range(64):\n"
        "        if os.fork() == 0:\n            time.sleep(5); os._exit(0)\n"
        "        n += 1\n"
        "except BlockingIOError:\n    print('stopped', n)\n"
        "else:\n    print('forked', n)\n",
        sb.SandboxConfig(nproc=16))
    assert res.returncode == 0, res.stderr
    word, n = res.stdout.split()
    assert word == "stopped" and int(n) < 16


@needs_bwrap
def test_killing_bwrap_kills_whole_tree(sleeper):
    tree = [p for p in descendants(sleeper.pid) if alive(p)]
    assert len(tree) >= 3  # bwrap's init, python, its forked child
    os.kill(sleeper.pid, signal.SIGKILL)
    sleeper.wait(10)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in tree if alive(p)]
