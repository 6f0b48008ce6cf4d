"""The `healthcoach` command (also `python -m healthcoach`).

The process restarts itself once under glibc settings that scrub freed memory (store/heap.py) before it
imports the CLI, so the restart costs an interpreter start, not the CLI's imports."""

from __future__ import annotations

import sys

from healthcoach.store.heap import reexec_scrubbed


def main() -> None:
    """Entry point of the `healthcoach` script."""
    reexec_scrubbed(sys.argv[1:])
    # lazy: start-up time (the restart above happens before the CLI and its imports are loaded)
    from healthcoach.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
