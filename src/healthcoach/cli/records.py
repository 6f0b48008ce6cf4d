"""`healthcoach ingest`, `healthcoach records`, `healthcoach users`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from healthcoach.cli.auth import register_users
from healthcoach.cli.common import app_context, console
from healthcoach.ingest.pipeline import IngestReport
from healthcoach.records.models import Category, Record
from healthcoach.records.omop_tables import is_url
from healthcoach.records.serialize import code_keys, record_json


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(records)
    users_app = typer.Typer(help="List users, or add one with `users add NAME`.", invoke_without_command=True)
    users_app.callback()(users)
    app.add_typer(users_app, name="users")
    register_users(users_app)


def ingest(
    ctx: typer.Context,
    paths: list[str] = typer.Argument(..., help="Export files, folders or .zip files (FHIR R4 JSON/NDJSON, C-CDA "
                                                "XML, an OMOP CDM CSV folder or database URL, wearable exports)."),
    user: str = typer.Option(..., "--user", "-u", help="Whose records these are."),
    person_id: int | None = typer.Option(None, "--person-id", help="OMOP CDM only: the person_id to import "
                                                                    "(without it, the persons are listed)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Ingest exports into a user's record store and vector index (all or nothing)."""

    app = app_context(ctx)
    sources: list[Path | str] = [p if is_url(p) else Path(p) for p in paths]
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=as_json) as bar:
        task = bar.add_task("reading", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        report = app.stores.ingestor.ingest(user, sources, progress=progress, person_id=person_id)
    if as_json:
        console.print_json(report.model_dump_json())
        return
    print_report(report)


def print_report(report: IngestReport) -> None:
    """Summary tables: records by category, skips by reason, timing."""
    table = Table(title=f"Ingested for {report.user_id}", show_edge=False)
    table.add_column("category")
    table.add_column("records", justify="right")
    for cat, n in sorted(report.records_by_category.items()):
        table.add_row(cat, str(n))
    table.add_row("[bold]total[/]", f"[bold]{report.total_records}[/]")
    console.print(table)
    if report.skipped:
        skips = Table(title="Not stored (by reason)", show_edge=False)
        skips.add_column("reason")
        skips.add_column("count", justify="right")
        for reason, n in sorted(report.skipped.items(), key=lambda kv: -kv[1]):
            skips.add_row(reason, str(n))
        console.print(skips)
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    if report.merged or report.conflicts:
        console.print(f"{report.merged} records repeat another source's and are shown once"
                      + (f"; {report.conflicts} conflicting values are shown side by side" if report.conflicts else "")
                      + " (see `healthcoach records --duplicates`)")
    console.print(
        f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged; "
        f"{report.chunks} chunks ({report.embedded} embedded); {report.seconds:.2f} s"
    )


def records(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", "-u", help="Whose records."),
    category: Category | None = typer.Option(None, "--category", "-c", help="Only this category."),
    code: list[str] = typer.Option([], "--code", help="Only records with this code (e.g. 4548-4 or LOINC:4548-4)."),
    limit: int | None = typer.Option(None, "--limit", "-n", help="At most this many."),
    duplicates: bool = typer.Option(False, "--duplicates", help="Show what was merged across sources, and why, "
                                                                "and which values conflict."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: a list of records."),
) -> None:
    """List stored records, newest clinical date first (one per fact when several sources state it)."""
    app = app_context(ctx)
    app.stores.records.get_user(user)
    if duplicates:
        print_duplicates(app.stores.records.duplicates(user), as_json)
        return
    found = app.stores.records.query(user, categories=[category] if category else None, code_keys=code_keys(code),
                                     limit=limit)
    if as_json:
        print(json.dumps([record_json(r) for r in found], indent=2))
        return
    table = Table(show_edge=False)
    for col in ("date", "category", "record", "value", "source"):
        table.add_column(col)
    for r in found:
        value = r.value_display() if r.category not in (Category.document,) else f"{len(r.text or '')} characters"
        table.add_row(r.date.isoformat() if r.date else "", str(r.category), r.label, value[:60], r.source_display())
    console.print(table)
    console.print(f"{len(found)} record(s)")


def print_duplicates(links: list[tuple[str, Record, Record, str]], as_json: bool) -> None:
    """Each merge (the record shown, the other source's copy, why) and each conflict."""
    if as_json:
        print(json.dumps([{"kind": kind, "shown": record_json(shown), "other": record_json(other), "why": why}
                          for kind, shown, other, why in links], indent=2))
        return
    for kind, title in (("duplicate", "Merged (shown once)"), ("conflict", "Conflicting values (both shown)")):
        rows = [x for x in links if x[0] == kind]
        table = Table(title=f"{title}: {len(rows)}", show_edge=False)
        for col in ("date", "record", "value", "shown from", "also from", "why"):
            table.add_column(col)
        for _, shown, other, why in rows:
            table.add_row(shown.date.isoformat() if shown.date else "", shown.label[:40], shown.value_display()[:30],
                          shown.source.display(), f"{other.source.display()} ({other.value_display()[:20]})"
                          if kind == "conflict" else other.source.display(), why)
        console.print(table)


def users(ctx: typer.Context) -> None:
    """List users with their record counts."""
    if ctx.invoked_subcommand:
        return
    app = app_context(ctx)
    table = Table(show_edge=False)
    for col in ("user", "records", "records in chat", "created"):
        table.add_column(col)
    for u in app.stores.records.users():
        n = sum(app.stores.records.record_counts(u.id).values())
        table.add_row(u.id, str(n), "on" if u.use_records_in_chat else "off", u.created_at.date().isoformat())
    console.print(table)

