"""`healthcoach demo`: ingest the bundled synthetic person, show what the coach answers, then serve."""

from __future__ import annotations

import typer

from healthcoach.cli.chat import show
from healthcoach.cli.common import app_context, console
from healthcoach.cli.records import print_report
from healthcoach.cli.serve import run_server

DEMO_USER = "demo"
SEED_QUESTIONS = [
    "What's my A1c?",
    "When's the last time I got a flu shot?",
    "What is A1c?",
    "How can I improve my cholesterol?",
    "Should I double my metformin?",
]


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    ctx: typer.Context,
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Start the UI + API afterwards."),
    port: int | None = typer.Option(None, "--port", help="Port for the UI + API."),
) -> None:
    """Ingest a synthetic person (no real data), answer a few questions, then start the UI + API."""
    app = app_context(ctx)
    home = app.settings.home
    from healthcoach.sample.generator import write_person  # lazy: start-up time of other commands

    person, _truth = write_person(home / "demo_data")
    console.print(f"[bold]healthcoach demo[/] · data dir {home} · synthetic person: {person.name}")
    report = app.stores.ingestor.ingest(DEMO_USER, [person])
    print_report(report)
    # The demo user stands in for a person who has opted in to using their records in chat.
    app.stores.records.set_consent(DEMO_USER, records=True)
    for q in SEED_QUESTIONS:
        console.print(f"\n[bold cyan]you>[/] {q}")
        _cid, reply = app.chat.ask(DEMO_USER, q)
        show(reply)
    if not serve:
        return
    settings = app.settings.model_copy(
        update={"api": app.settings.api.model_copy(update={"local_user": DEMO_USER, "host": "127.0.0.1"})})
    from healthcoach.container import CoachBundle  # lazy: start-up time

    bundle = CoachBundle(app.stores, app.coach, app.chat)
    run_server(settings, port=port, coach_bundle=bundle,
               banner="The demo person is synthetic. Open the UI and ask your own questions.")
