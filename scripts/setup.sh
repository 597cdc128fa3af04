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
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
