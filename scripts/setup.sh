#!/usr/bin/env bash
# Set up a working copy: bubblewrap (for the sandbox) and Chromium (for the browser tests), where they can be
# installed, and a virtualenv with the grader.
set -euo pipefail
cd "$(dirname "$0")/.."
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=""
apt_install() {  # apt_install PACKAGE: as root, with apt-get (its package lists read once)
    if [ -z "$apt_updated" ]; then apt-get update -qq || return 1; apt_updated=1; fi
    apt-get install -y -qq "$1" >/dev/null
}
if ! command -v bwrap >/dev/null 2>&1; then
    if can_apt; then
        apt_install bubblewrap \
            || echo "setup: bubblewrap could not be installed; student code will run without the sandbox" >&2
    else
        echo "setup: bubblewrap (bwrap) is missing; install it (Debian/Ubuntu: apt-get install bubblewrap) for the sandbox" >&2
    fi
fi
if [ ! -x /usr/bin/chromium ] && can_apt; then
    apt_install chromium \
        || echo "setup: chromium could not be installed; the browser tests (tests/html/) will be skipped" >&2
fi
# The Python of the virtualenv: $GRADER_PYTHON if set, else CPython 3.12 where this machine has it (pyenv's too), else
# python3. From 3.12 the objects every process shares are immortal, their reference counts never written: a forked
# submission process copies about 12% fewer of its worker's pages than on 3.11 (benchmarks/throughput.py; 3.13
# copied more than 3.12 here). Any Python from 3.10 works.
pick_python() {
    local candidate
    for candidate in ${GRADER_PYTHON:-} python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3; do
        if "$candidate" -c 'import ensurepip, sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo python3
}
[ -x .venv/bin/python ] || "$(pick_python)" -m venv .venv
.venv/bin/pip install -q -e '.[test]'
