"""What the `healthcoach` command sets up before any command runs: where log lines go, and help text
without type labels (`<bool>`, `<str>`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from typer.core import TyperOption

LOG_FILE = "healthcoach.log"
_MARK = "_healthcoach_handler"


def setup_logging(home: Path, verbose: bool) -> Path:
    """Send log lines (ours and the libraries', warnings included) to <home>/logs/healthcoach.log.

    The console gets them only with --verbose, so a library warning never interleaves with an answer.
    Log lines never carry record contents (see the loggers); the file is owner-only like the stores."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    logs = home.expanduser() / "logs"
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = logs / LOG_FILE
    to_file = logging.FileHandler(path, encoding="utf-8", delay=True)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_file.setLevel(logging.INFO)
    handlers: list[logging.Handler] = [to_file]
    if verbose:
        to_console = logging.StreamHandler()
        to_console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handlers.append(to_console)
    for handler in handlers:
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # warnings.warn(...) from libraries: to the log, not the terminal
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if path.exists():
        path.chmod(0o600)
    return path


def quiet_help(command: Any) -> Any:
    """Drop the type column from every help screen of a typer command tree: flags and arguments show
    no type, value options show their name (`--user USER`)."""
    for param in command.params:
        _quiet(param)
    plain_help_option = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = plain_help_option(ctx)
        if option is not None:
            _quiet(option)
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        quiet_help(sub)
    return command


def _quiet(param: Any) -> None:
    flag = bool(getattr(param, "is_flag", False) or getattr(param, "count", False))
    option = isinstance(param, TyperOption)
    label = str(param.name).upper() if option and not flag and param.name else None

    def display(ctx: Any) -> str | None:
        return label

    param.display_type_rich = display  # typer's help asks each parameter for its type label
