"""`healthcoach log weight 72.5kg` and `healthcoach log water 500ml`: manual entries."""

from __future__ import annotations

from datetime import date

import typer

from healthcoach.cli.common import app_context, console, fail
from healthcoach.wearables.manual import manual_entry

log_app = typer.Typer(help="Log a measurement yourself: weight or water.")


def register(app: typer.Typer) -> None:
    app.add_typer(log_app, name="log")


def _log(ctx: typer.Context, kind: str, amount: str, user: str, when: str | None) -> None:
    app = app_context(ctx)
    try:
        day = date.fromisoformat(when) if when else None
        record = manual_entry(user, kind, amount, day)  # type: ignore[arg-type]
    except ValueError as exc:
        fail(str(exc))
    app.stores.ingestor.add_records(user, [record])
    console.print(f"logged {record.label.lower()}: {record.value_display()} on {record.date}")


@log_app.command("weight")
def weight(
    ctx: typer.Context,
    amount: str = typer.Argument(..., help="e.g. 72.5kg or 160lb"),
    user: str = typer.Option(..., "--user", "-u"),
    when: str | None = typer.Option(None, "--date", help="YYYY-MM-DD (default today)"),
) -> None:
    """Log your weight."""
    _log(ctx, "weight", amount, user, when)


@log_app.command("water")
def water(
    ctx: typer.Context,
    amount: str = typer.Argument(..., help="e.g. 500ml or 2 cups"),
    user: str = typer.Option(..., "--user", "-u"),
    when: str | None = typer.Option(None, "--date", help="YYYY-MM-DD (default today)"),
) -> None:
    """Log water you drank."""
    _log(ctx, "water", amount, user, when)
