"""The `healthcoach` command: one typer app, one module per noun."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from healthcoach import __version__
from healthcoach.cli import (
    chat,
    data,
    demo,
    eval_remote,
    evals,
    index,
    mcp_server,
    records,
    serve,
    share,
    wearables,
)
from healthcoach.cli.common import AppContext, err_console
from healthcoach.cli.setup import quiet_help, setup_logging
from healthcoach.errors import HealthCoachError


class _Group(typer.core.TyperGroup):
    """Every command's HealthCoachError becomes one red `error:` line and exit status 1."""

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except HealthCoachError as exc:
            err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    help="healthcoach: a local-first health coach over your own records. A wellness coach, not a doctor: "
    "in an emergency call 911 (or your local number).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"healthcoach {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where the stores live (HEALTHCOACH_DATA_DIR)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also show log lines here (never record "
                                 "contents); they always go to <data dir>/logs/healthcoach.log."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Settings are read once here and passed to every command."""
    ctx.obj = AppContext.from_env(data_dir)
    setup_logging(ctx.obj.settings.home, verbose)


# the order of `--help`
for module in (records, chat, share, evals, eval_remote, serve, mcp_server, data, index, wearables, demo):
    module.register(app)


def command() -> typer.core.TyperGroup:
    """The whole command line as one click command, with help screens free of type labels."""
    group: typer.core.TyperGroup = quiet_help(typer.main.get_command(app))
    return group


def main() -> None:
    """Entry point of the `healthcoach` script."""
    try:
        command()(prog_name="healthcoach")
    except HealthCoachError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise SystemExit(1) from None
