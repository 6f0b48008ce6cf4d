"""`healthcoach summary`: the 'share with my doctor' page as a PDF or HTML file."""

from __future__ import annotations

from pathlib import Path

import typer

from healthcoach.cli.common import app_context, console, fail


def register(app: typer.Typer) -> None:
    app.command()(summary)


def summary(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", "-u", help="Whose records."),
    out: Path = typer.Option(Path("summary.pdf"), "--out", "-o", help="A .pdf or .html file to write."),
) -> None:
    """Write a one-page summary to share with a doctor: active problems, medications with their
    instructions, allergies, recent labs with ranges, vaccines and visits; each line dated and sourced."""
    from healthcoach.share import build_summary  # lazy: start-up time of other commands
    from healthcoach.share.html import summary_html  # lazy: start-up time
    from healthcoach.share.pdf import write_summary_pdf  # lazy: start-up time

    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        fail(f"{out.name}: the summary is written as .pdf or .html")
    if not out.parent.is_dir():
        fail(f"{out.parent}: no such folder")
    page = build_summary(app_context(ctx).stores.records, user)
    if suffix == ".pdf":
        write_summary_pdf(page, out)
    else:
        out.write_text(summary_html(page), encoding="utf-8")
    console.print(f"wrote {out} ({page.records} records summarised); it contains health information, "
                  "share it only with people you choose", highlight=False)
