"""The ``grader`` command (and ``python -m grader``): the command line, loaded with a quiet Ctrl-C."""

import sys


def main() -> None:
    try:
        from grader.cli import main as command_line  # NumPy, pydantic, rich...: about half a second
    except KeyboardInterrupt:  # Ctrl-C while it loads: nothing was started, nothing to say but the status
        sys.exit(130)
    command_line()


if __name__ == "__main__":
    main()
