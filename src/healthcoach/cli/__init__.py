"""The `healthcoach` command: one typer app, one module per noun."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from healthcoach.cli import chat, data, demo, eval_remote, evals, index, mcp_server, records, serve, wearables
from healthcoach.cli.common import AppContext, err_console
from healthcoach.errors import HealthCoachError

app = typer.Typer(
    help="healthcoach: a local-first health coach over your own records. A wellness coach, not a doctor: "
    "in an emergency call 911 (or your local number).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where the stores live (HEALTHCOACH_DATA_DIR)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress (never record contents)."),
) -> None:
    """Settings are read once here and passed to every command."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = AppContext.from_env(data_dir)


# the order of `--help`
for module in (records, chat, evals, eval_remote, serve, mcp_server, data, index, wearables, demo):
    module.register(app)


def main() -> None:
    """Entry point of the `healthcoach` script."""
    try:
        app(prog_name="healthcoach")
    except HealthCoachError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise SystemExit(1) from None
