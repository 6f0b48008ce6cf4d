"""`healthcoach ask` and `healthcoach chat`: the coach in a terminal, through the same ChatService."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import nullcontext

import typer
from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.markup import escape
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
        "query": reply.query.model_dump(mode="json") if reply.query else None,
        "blocked": reply.blocked,
        "category": reply.category,
        "action": reply.action,
        "as_of": reply.as_of.isoformat() if reply.as_of else None,
        "warnings": reply.warnings,
    }


TITLES = {"escalate": "EMERGENCY", "redirect": "Safety redirect",
          "answer_with_care": "General information, not a diagnosis"}
STYLES = {"escalate": "bold red", "redirect": "yellow", "answer_with_care": "cyan"}


def citation_lines(reply: Reply) -> list[str]:
    """One line per citation: [n] date · label value · source."""
    lines = []
    for c in reply.citations:
        value = f" {c.value}{' ' + c.unit if c.unit else ''}" if c.value else ""
        lines.append(f"[{c.n}] {c.date or 'undated'} · {c.label}{value} · {c.source}")
    return lines


def plain_text(markdown: str) -> str:
    """Markdown as a person reads it in a pipe or a file: emphasis markers and heading hashes dropped."""
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), markdown)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    return re.sub(r"(?m)^#{1,6}\s+", "", text)


def show(reply: Reply, out: Console | None = None) -> None:
    """Render a reply once: a panel (markdown, redirects marked) on a terminal, plain text when piped."""
    out = out or console
    if not out.is_terminal:
        title = TITLES.get(reply.action)
        text = (f"{title.upper()}\n" if title else "") + plain_text(reply.text)
        out.print(text, highlight=False, markup=False, soft_wrap=True)
        for line in citation_lines(reply):
            out.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
        return
    out.print(panel(reply.text, reply.action))
    for line in citation_lines(reply):
        out.print(f"  [dim]{escape(line)}[/]", highlight=False)


def panel(text: str, action: str = "answer") -> Panel:
    """The answer panel: its colour and title say whether it is an answer or a safety redirect."""
    return Panel(Markdown(text), title=TITLES.get(action, "healthcoach"), border_style=STYLES.get(action, "green"))


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
            console.print("[dim]please type a question[/]")
            continue
        final = _stream_once(app.chat.stream(user, message, cid))
        if final is not None:
            show(final)


def _stream_once(events: Iterator[tuple[str, dict[str, object]]]) -> Reply | None:
    """Consume a streamed reply, showing it growing in one live panel on a terminal (replaced by the
    checked reply at the end), and nothing until the checked reply when piped: each answer shows once."""
    final: Reply | None = None
    text = ""
    with Live(panel(""), console=console, transient=True, auto_refresh=False,
              redirect_stdout=False) if console.is_terminal else nullcontext() as live:
        for kind, payload in events:
            if kind == "delta":
                text += str(payload["text"])
                if live is not None:
                    live.update(panel(text), refresh=True)
            elif kind == "replace":
                text = ""
            else:
                final = Reply.model_validate(payload)
    return final
