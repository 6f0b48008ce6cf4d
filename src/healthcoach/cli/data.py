"""`healthcoach consent | export | delete | disconnect | audit`: your data, your rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from healthcoach.cli.common import app_context, console
from healthcoach.errors import NotFound
from healthcoach.privacy import (
    delete_user,
    disconnect_source,
    export_user,
    get_consent,
    list_audit,
    set_consent,
)
from healthcoach.store.vectors import collection_name


def register(app: typer.Typer) -> None:
    """Add the data-rights commands to the app."""
    app.command()(consent)
    app.command()(export)
    app.command()(delete)
    app.command()(disconnect)
    app.command()(audit)


def _flag(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    low = value.strip().lower()
    if low not in ("on", "off"):
        raise typer.BadParameter("use on or off", param_hint=name)
    return low == "on"


def consent(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", "-u", help="Whose profile."),
    records: str | None = typer.Option(None, "--records", help="on|off: let the coach answer from your records."),
    remote_llm: str | None = typer.Option(None, "--remote-llm", help="on|off: allow records to go to a remote LLM."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show or change consent: records in chat (off by default) and remote LLM use. Every change is logged."""
    store = app_context(ctx).stores.records
    rec_flag, llm_flag = _flag(records, "--records"), _flag(remote_llm, "--remote-llm")
    if rec_flag is None and llm_flag is None:
        state = get_consent(store, user)
    else:
        state = set_consent(store, user, records=rec_flag, remote_llm=llm_flag)
    if as_json:
        print(state.model_dump_json(indent=2))
        return
    onoff = {True: "[green]on[/]", False: "[yellow]off[/]"}
    console.print(f"records in chat: {onoff[state.use_records_in_chat]}   remote LLM: {onoff[state.remote_llm]}")
    if state.history:
        table = Table(title="Changes", show_edge=False)
        for col in ("when", "flag", "value"):
            table.add_column(col)
        for ev in state.history:
            table.add_row(ev.at.isoformat(timespec="seconds"), ev.flag, "on" if ev.value else "off")
        console.print(table)


def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="A new folder, or a file ending in .zip.")],
    user: str = typer.Option(..., "--user", "-u", help="Whose data."),
) -> None:
    """Export everything held about you: profile, consent history, records (JSON and FHIR), conversations, audit."""
    path = export_user(app_context(ctx).stores, user, out)
    console.print(f"exported to {path} (see README.md inside); it contains health information, keep it private")


def delete(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", "-u", help="Whose data."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Delete everything about a user from every store (records, vectors, conversations, profile). No undo.
    Also removes what an interrupted import left in the search index for a user with no profile."""
    stores = app_context(ctx).stores
    if user not in stores.records.user_ids() and not stores.vectors.size(collection_name(user)):
        raise NotFound(f"no user named {user!r}")
    if not yes:
        typer.confirm(f"Delete ALL data of {user!r} (records, index, conversations, audit log)? This cannot be "
                      "undone; export first if you want a copy", abort=True)
    report = delete_user(stores, user)
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    parts = ", ".join(f"{n} {k}" for k, n in report.removed.items() if n)
    console.print(f"deleted {user}: {parts or 'nothing stored'}; compacted: {', '.join(report.scrubbed) or '-'}")


def disconnect(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", "-u", help="Whose data."),
    kind: str | None = typer.Option(None, "--kind", help="Source kind: fhir, fitbit, apple_health, manual ..."),
    file: str | None = typer.Option(None, "--file", help="Only records from this file name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Remove the records of one source (without --kind: list sources). The search index is rebuilt."""
    stores = app_context(ctx).stores
    stores.records.get_user(user)
    sources = stores.records.sources(user)
    if kind is None:
        table = Table(show_edge=False)
        for col in ("kind", "file", "records"):
            table.add_column(col)
        for k, f, n in sources:
            table.add_row(k, f or "", str(n))
        console.print(table)
        return
    if not yes:
        what = f"{kind}" + (f" file {file}" if file else "")
        typer.confirm(f"Remove every record of {user!r} from {what}?", abort=True)
    report = disconnect_source(stores, user, kind, file)
    backed = (f" ({report.still_backed} of them also stated by another source, so those facts stay)"
              if report.still_backed else "")
    console.print(f"removed {report.records_removed} records{backed}; {report.records_left} left, "
                  f"{report.chunks} chunks in the index")


def audit(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", "-u", help="Whose log."),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Only the newest N entries."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Your audit log: questions and the ids of the records read, consent changes, exports, deletions."""
    entries = list_audit(app_context(ctx).stores.records, user, limit)
    if as_json:
        print(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))
        return
    table = Table(show_edge=False)
    for col in ("when", "action", "detail"):
        table.add_column(col)
    for e in entries:
        d = e.detail
        if e.action == "ask":
            text = f"{d.get('question', '')!s} → {d.get('intent')}; read {len(d.get('records_read') or [])} record(s)"
        else:
            text = ", ".join(f"{k}={v}" for k, v in d.items())
        table.add_row(e.at.isoformat(timespec="seconds"), e.action, text)
    console.print(table)
    console.print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
