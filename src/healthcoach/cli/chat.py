"""`healthcoach ask` and `healthcoach chat`: the coach in a terminal, through the same ChatService."""

from __future__ import annotations

import json

import typer
from rich.markdown import Markdown
from rich.panel import Panel

from healthcoach.cli.common import app_context, console
from healthcoach.compose.reply import Reply


def register(app: typer.Typer) -> None:
    app.command()(ask)
    app.command()(chat)


def reply_json(reply: Reply) -> dict[str, object]:
    """The `ask --json` shape."""
    return {
        "answer": reply.text,
        "citations": [c.model_dump(include={"record_id", "date", "label", "value", "unit", "source"})
                      for c in reply.citations],
        "intent": reply.intent,
        "blocked": reply.blocked,
        "category": reply.category,
        "action": reply.action,
        "as_of": reply.as_of.isoformat() if reply.as_of else None,
        "warnings": reply.warnings,
    }


def show(reply: Reply) -> None:
    """Render a reply with its citations; safety redirects are marked."""
    style = {"escalate": "bold red", "redirect": "yellow"}.get(reply.action, "green")
    title = {"escalate": "EMERGENCY", "redirect": "Safety redirect"}.get(reply.action, "healthcoach")
    console.print(Panel(Markdown(reply.text), title=title, border_style=style))
    for c in reply.citations:
        value = f" {c.value}{' ' + c.unit if c.unit else ''}" if c.value else ""
        console.print(f"  [dim][{c.n}] {c.date or 'undated'} · {c.label}{value} · {c.source}[/]", highlight=False)


def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="Your question, e.g. \"What's my A1c?\""),
    user: str = typer.Option(..., "--user", "-u", help="Whose records to answer from."),
    as_json: bool = typer.Option(False, "--json", help="Print the reply as JSON."),
) -> None:
    """Ask one question and print the answer with its citations."""
    app = app_context(ctx)
    _cid, reply = app.chat.ask(user, question)
    if as_json:
        print(json.dumps(reply_json(reply), indent=2))
    else:
        show(reply)


def chat(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", "-u", help="Whose records to answer from."),
) -> None:
    """A conversation in the terminal (follow-ups like "and before that?" work). Ctrl-D or 'exit' ends it."""
    app = app_context(ctx)
    cid = app.chat.start(user)
    console.print("[dim]healthcoach: a wellness coach, not a doctor. In an emergency call 911. "
                  "Type 'exit' to leave.[/]")
    while True:
        try:
            message = console.input("[bold cyan]you> [/]").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if message.lower() in {"exit", "quit", ":q"}:
            return
        if not message:
            continue
        text = ""
        final: Reply | None = None
        for kind, payload in app.chat.stream(user, message, cid):
            if kind == "delta":
                assert isinstance(payload, dict)
                text += str(payload["text"])
                console.print(str(payload["text"]), end="", highlight=False, markup=False)
            elif kind == "replace":
                console.print("\n[yellow](that text did not pass the check against your records; "
                              "here is the checked answer)[/]")
                text = ""
            else:
                assert isinstance(payload, dict)
                final = Reply.model_validate(payload)
        console.print()
        if final is not None:
            show(final)
