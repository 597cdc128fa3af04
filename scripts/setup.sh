#!/usr/bin/env bash
# Set up a working copy: bubblewrap (for the sandbox, where it can be installed) and a virtualenv with the grader.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bwrap >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) \
            || echo "setup: bubblewrap could not be installed; student code will run without the sandbox" >&2
    else
        echo "setup: bubblewrap (bwrap) is missing; install it (Debian/Ubuntu: apt-get install bubblewrap) for the sandbox" >&2
    fi
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
