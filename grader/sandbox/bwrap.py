"""Build bubblewrap (bwrap) command lines that run a grader worker in a sandbox.

Two modes, chosen by who we are:

* root (the grader service): bwrap runs as real root *without* a user namespace
  and the command inside starts with ``prlimit ... setpriv --reuid U --regid G``
  so the worker runs as the unprivileged host user ``grader-sandbox`` with no
  capabilities.  bwrap as an unprivileged user cannot be used here because it
  must reach the interpreter through ``/root`` (mode 0700), see docs/sandbox.md.
* non-root (a developer): bwrap creates a user namespace (``--unshare-user
  --disable-userns``); the sandbox then runs as the caller's host uid.

Stdlib only.
"""
from __future__ import annotations

import inspect
import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

SANDBOX_USER = "grader-sandbox"
MIN_AS_MB = 256  # measured: NumPy (OpenBLAS) fails to import below ~192-256 MiB
BASE_ENV: tuple[tuple[str, str], ...] = (
    ("HOME", "/tmp"),
    ("LANG", "C.UTF-8"),
    ("OPENBLAS_NUM_THREADS", "1"),
    ("OMP_NUM_THREADS", "1"),
    ("MKL_NUM_THREADS", "1"),
    ("PYTHONDONTWRITEBYTECODE", "1"),
    ("MPLBACKEND", "Agg"),  # matplotlib, where it is installed, draws into memory: no window, no display
    ("LD_BIND_NOW", "1"),  # the worker's symbols resolved at its start, not again in each forked submission process
)
_SPECIAL = ("/proc", "/dev", "/tmp")  # mounted first; never re-created as plain dirs
_TOOL_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
def _interpreter_paths() -> dict:
    """The host folders the running interpreter needs, its multiarch triplet, and where its NumPy is.

    Run by the interpreter asked about: in this process when that is this one, else in a child
    with ``-I`` (so self-contained: its own imports, nothing of this module's).
    """
    import os
    import sys
    import sysconfig

    paths = {sysconfig.get_path(n) for n in ("stdlib", "platstdlib", "purelib", "platlib")}
    # A system interpreter (prefix /usr) gets its own dirs only, never all of /usr.
    paths |= {p for p in (sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix)
              if p not in ("/", "/usr", "/usr/local")}
    numpy_dir = ""
    try:
        import numpy

        numpy_dir = os.path.dirname(os.path.dirname(os.path.abspath(numpy.__file__)))
        paths.add(numpy_dir)
    except Exception:  # noqa: BLE001 - no NumPy: the probe says so later
        pass
    paths.add(os.path.realpath(sys.executable))
    return {"paths": sorted(paths), "multiarch": sysconfig.get_config_var("MULTIARCH") or "", "numpy": numpy_dir}


_PATHS_SCRIPT = inspect.getsource(_interpreter_paths) + "\nimport json\nprint(json.dumps(_interpreter_paths()))\n"


@dataclass(frozen=True)
class SandboxConfig:
    """Tunable limits and extra mounts of one sandbox."""

    tmp_size_mb: int = 64
    shm_size_mb: int = 16
    ro_paths: tuple[str, ...] = ()
    nproc: int | None = 128  # RLIMIT_NPROC: counted per *host uid* over all sandboxes
    as_mb: int | None = None  # RLIMIT_AS for the whole sandbox (the worker may lower it)
    user: str = SANDBOX_USER
    hostname: str = "sandbox"
    extra_env: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        """Reject limits that cannot work."""
        if self.tmp_size_mb <= 0 or self.shm_size_mb <= 0:
            raise ValueError("tmp_size_mb and shm_size_mb must be positive")
        if self.as_mb is not None and self.as_mb < MIN_AS_MB:
            raise ValueError(f"as_mb must be >= {MIN_AS_MB} (NumPy needs it)")
        if self.nproc is not None and self.nproc < 4:
            raise ValueError("nproc must be >= 4")
        for p in self.ro_paths:
            if not os.path.isabs(p):
                raise ValueError(f"ro_paths must be absolute: {p!r}")


@dataclass(frozen=True)
class Probe:
    """Outcome of trying ``bwrap ... python -c 'import numpy'`` once."""

    usable: bool
    reason: str
    bwrap: str | None = None
    mode: str = ""  # "root-setpriv" or "userns"
    argv: tuple[str, ...] = field(default=(), repr=False)


def find_bwrap() -> str | None:
    """Return the absolute path of the bwrap executable, or None."""
    path = os.environ.get("PATH", "") + os.pathsep + _TOOL_PATH
    found = shutil.which("bwrap", path=path)
    return os.path.realpath(found) if found else None


def _tool(name: str) -> str:
    """Return the real path of a util-linux helper used inside the sandbox."""
    found = shutil.which(name, path=_TOOL_PATH)
    if not found:
        raise FileNotFoundError(f"{name} not found (package util-linux)")
    return os.path.realpath(found)


def ensure_sandbox_user(name: str = SANDBOX_USER) -> tuple[int, int] | None:
    """Return (uid, gid) of the sandbox user, creating it if root; None if not root."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd", path=_TOOL_PATH) or "useradd"
        res = subprocess.run([useradd, "--system", "--no-create-home", "--user-group",
                              "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                              name], capture_output=True, text=True)
        try:  # a concurrent caller may have created it first: trust the passwd entry
            pw = pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(f"useradd {name} failed: {res.stderr.strip()}") from None
    if pw.pw_uid == 0 or pw.pw_gid == 0:
        raise RuntimeError(f"sandbox user {name!r} must not be uid/gid 0")
    return pw.pw_uid, pw.pw_gid


@lru_cache(maxsize=None)
def python_paths(python: str) -> tuple[tuple[str, ...], str]:
    """Return (host paths the interpreter needs, multiarch triplet) for ``python``.

    Asked of this very interpreter (the same path: every venv's python resolves to its base one),
    the answer is this process's own (a child costs a tenth of a second), when it is what ``python -I``
    would say: no PYTHONHOME moved its prefix, and its NumPy is that of its site-packages.
    """
    here = os.path.abspath(python) == os.path.abspath(sys.executable) and not os.environ.get("PYTHONHOME")
    info = _interpreter_paths() if here else None
    if info is None or not any(info["numpy"] == os.path.normpath(sysconfig.get_path(n)) for n in ("purelib", "platlib")):
        out = subprocess.run([python, "-I", "-c", _PATHS_SCRIPT], capture_output=True,
                             text=True, check=True, timeout=60,
                             env={"PATH": _TOOL_PATH, "LANG": "C.UTF-8"}).stdout
        info = json.loads(out.strip().splitlines()[-1])
    paths = [*info["paths"], os.path.abspath(python)]  # a venv's bin/python may be a symlink
    paths += [os.path.realpath(p) for p in paths]
    return tuple(dict.fromkeys(paths)), info["multiarch"]


def _system_paths(multiarch: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Return (library dirs to bind, top-level symlinks to mirror) of the host."""
    lib = f"/usr/lib/{multiarch}" if multiarch and os.path.isdir(f"/usr/lib/{multiarch}") \
        else "/usr/lib"
    binds = [lib] + [d for d in ("/usr/lib64", "/usr/lib32") if os.path.isdir(d)]
    links = []
    for top in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            links.append((os.readlink(top), top))
        elif os.path.isdir(top):
            binds.append(top)
    if os.path.isfile("/etc/ld.so.cache"):
        binds.append("/etc/ld.so.cache")
    return binds, links


def _under(path: str, parent: str) -> bool:
    """True when ``path`` is ``parent`` or lies below it."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _bind_ops(paths: Sequence[str]) -> list[str]:
    """Read-only bind ``paths`` in place, creating their parents world-traversable."""
    ops: list[str] = []
    made: set[str] = set(_SPECIAL)
    bound: list[str] = []
    for p in sorted(dict.fromkeys(os.path.normpath(p) for p in paths)):
        if any(_under(p, b) for b in bound) or not os.path.exists(p):
            continue
        parents = []
        for parent in Path(p).parents:
            s = str(parent)
            if s == "/" or s in made or any(_under(s, b) for b in bound):
                break
            parents.append(s)
        for s in reversed(parents):  # bwrap makes missing parents 0700: be explicit
            ops += ["--perms", "0755", "--dir", s]
            made.add(s)
        ops += ["--ro-bind", p, p]
        bound.append(p)
    return ops


def sandbox_mode() -> str:
    """Return "root-setpriv" when running as root, else "userns"."""
    return "root-setpriv" if os.geteuid() == 0 else "userns"


def bwrap_argv(inner_argv: Sequence[str], config: SandboxConfig, *, worker_dir: str | Path,
               bwrap: str | None = None, as_pid_1: bool = False, status_fd: int | None = None) -> list[str]:
    """Return the full bwrap command line that runs ``inner_argv`` (argv[0]: python).

    ``as_pid_1``: the command is the init of the sandbox's PID namespace, not bwrap's own: no
    process inside can then signal it (the kernel drops what they send an init that has no
    handler for it), and when it ends, the kernel kills every process left in the namespace.
    ``status_fd``: bwrap writes its status there (JSON) and holds it open until it ends.
    """
    bwrap = bwrap or find_bwrap()
    if not bwrap:
        raise FileNotFoundError("bwrap not found (apt-get install bubblewrap)")
    python = inner_argv[0]
    if not os.path.isabs(python) or not os.path.isdir(worker_dir):
        raise ValueError("inner_argv[0] must be an absolute path and worker_dir a directory")
    py_paths, multiarch = python_paths(python)
    libs, links = _system_paths(multiarch)
    mode = sandbox_mode()
    argv = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--hostname", config.hostname,
            "--unshare-cgroup-try"]
    if as_pid_1:
        argv.append("--as-pid-1")
    if status_fd is not None:
        argv += ["--json-status-fd", str(status_fd)]
    if mode == "userns":
        argv += ["--unshare-user", "--disable-userns"]
    else:  # real root, no user namespace: keep only what setpriv needs to drop to U:G
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--cap-add", "CAP_SETPCAP"]
    argv.append("--clearenv")
    env = dict(BASE_ENV, PATH=f"{os.path.dirname(python)}:/usr/bin:/bin")
    env.update(config.extra_env)
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(config.tmp_size_mb << 20), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(config.shm_size_mb << 20), "--tmpfs", "/dev/shm",
             "--remount-ro", "/dev"]  # in a user namespace /dev is the sandbox user's: no chmod, no file left there
    for target, link in links:
        argv += ["--symlink", target, link]
    prefix: list[str] = []
    tools: list[str] = []
    if config.nproc is not None or config.as_mb is not None:
        tools.append(_tool("prlimit"))
        prefix += [tools[-1]]
        if config.nproc is not None:
            prefix.append(f"--nproc={config.nproc}:{config.nproc}")
        if config.as_mb is not None:
            prefix.append(f"--as={config.as_mb << 20}:{config.as_mb << 20}")
        prefix.append("--")
    if mode == "root-setpriv":
        ids = ensure_sandbox_user(config.user)
        assert ids is not None
        tools.append(_tool("setpriv"))
        prefix += [tools[-1], f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups",
                   "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    wdirs = [os.path.abspath(worker_dir), os.path.realpath(worker_dir)]
    argv += _bind_ops([*libs, *py_paths, *tools, *config.ro_paths, *wdirs])
    argv += ["--remount-ro", "/", "--chdir", "/tmp", "--", *prefix, *inner_argv]
    return argv


def spawn(inner_argv: Sequence[str], config: SandboxConfig, *, worker_dir: str | Path,
          **popen: Any) -> subprocess.Popen:
    """Start ``inner_argv`` in the sandbox with pipes on stdin/stdout and no other fds."""
    popen.setdefault("stdin", subprocess.PIPE)
    popen.setdefault("stdout", subprocess.PIPE)
    popen.update(close_fds=True, pass_fds=(), env={"PATH": _TOOL_PATH})
    return subprocess.Popen(bwrap_argv(inner_argv, config, worker_dir=worker_dir), **popen)


_PROBES: dict[tuple[str, SandboxConfig], Probe] = {}
_PROBE_CODE = ("import numpy as np; a = np.arange(4.0).reshape(2, 2) + np.eye(2); "
               "assert np.allclose(a @ np.linalg.solve(a, np.ones(2)), 1); print('ok')")


def probe(python: str = sys.executable, config: SandboxConfig | None = None) -> Probe:
    """Try the sandbox once (cached per process) and say whether it is usable and why not."""
    config = config or SandboxConfig()
    key = (python, config)
    if key not in _PROBES:
        _PROBES[key] = _probe(python, config)
    return _PROBES[key]


def _probe(python: str, config: SandboxConfig) -> Probe:
    """Uncached body of probe()."""
    bwrap = find_bwrap()
    if not bwrap:
        return Probe(False, "bwrap not found on PATH (apt-get install bubblewrap)")
    mode = sandbox_mode()
    status_r, status_w = os.pipe()
    try:
        argv = bwrap_argv([python, "-I", "-c", _PROBE_CODE], config,  # with the options the workers are started with
                          worker_dir=Path(__file__).resolve().parent, bwrap=bwrap, as_pid_1=True, status_fd=status_w)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, env={"PATH": _TOOL_PATH}, pass_fds=(status_w,))
    except (OSError, subprocess.SubprocessError, ValueError, RuntimeError) as exc:
        return Probe(False, f"{type(exc).__name__}: {exc}", bwrap, mode)
    finally:
        os.close(status_r)
        os.close(status_w)
    if proc.returncode != 0 or proc.stdout.strip() != "ok":
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return Probe(False, f"exit {proc.returncode}: {err}", bwrap, mode, tuple(argv))
    return Probe(True, "ok", bwrap, mode, tuple(argv))
