"""`healthcoach index check|rebuild [--user U]`: is the search index what the records say? Repair it."""

from __future__ import annotations

import typer
from rich.table import Table

from healthcoach.cli.common import app_context, console
from healthcoach.ingest.reconcile import IndexReport

index_app = typer.Typer(help="Check or rebuild the search index (derived from your records).")


def register(app: typer.Typer) -> None:
    """Add `index check` and `index rebuild`."""
    app.add_typer(index_app, name="index")


@index_app.command("check")
def check(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", "-u", help="Only this user (default: every user)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Compare every indexed chunk with what the records say, and find chunks of users with no profile.
    Changes nothing; exits 1 when anything differs (repair with `healthcoach index rebuild`)."""
    report = app_context(ctx).stores.ingestor.repair.check(user)
    show(report, as_json)
    if not report.ok:
        raise typer.Exit(1)


@index_app.command("rebuild")
def rebuild(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", "-u", help="Only this user (default: every user)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Rebuild collections from the records (vectors from the cache, nothing re-encoded unless new) and drop
    the chunks of users with no profile. Prints what differed before the rebuild."""
    report = app_context(ctx).stores.ingestor.repair.rebuild(user)
    show(report, as_json)


def show(report: IndexReport, as_json: bool) -> None:
    """The report as a table (or JSON)."""
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    table = Table(show_edge=False)
    for col in ("user", "chunks", "missing", "changed", "stale", "interrupted"):
        table.add_column(col, justify="left" if col == "user" else "right")
    for user, d in report.users.items():
        table.add_row(user, str(d.chunks), str(d.missing), str(d.changed), str(d.stale),
                      "yes" if d.pending else "")
    console.print(table)
    if report.orphan_collections:
        console.print(f"{report.orphan_chunks} chunks in {report.orphan_collections} collection(s) of users "
                      "with no profile" + (" (removed)" if report.repaired else ""))
    for user in report.skipped_busy:
        console.print(f"[yellow]skipped {user}:[/] an ingest is running for this user")
    verdict = "repaired" if report.repaired else ("in sync" if report.ok else "differs from the records")
    console.print(f"index {verdict}" if report.repaired or report.ok else f"[yellow]index {verdict}[/]")
