"""`healthcoach users add NAME` creates a user and prints an API token once (only its sha256 is stored);
`healthcoach users revoke NAME` revokes every token of a user and signs out their web-UI sessions."""

from __future__ import annotations

import re

import typer

from healthcoach.cli.common import app_context, console, err_console, fail
from healthcoach.errors import NotFound


def register_users(users_app: typer.Typer) -> None:
    users_app.command("add")(add)
    users_app.command("revoke")(revoke)


def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name (letters, digits, '.', '_' or '-'; at most 64)."),
    records_in_chat: bool = typer.Option(False, "--records-in-chat", help="Also opt in to using records in chat."),
) -> None:
    """Create a user (or add a token to an existing one) and print a new API token. It is shown only once:
    store it safely; it signs in to the API (Authorization: Bearer) and the web UI (user name + token)."""
    from healthcoach.api.auth import create_token  # optional dependency: the api extra (fastapi)

    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
        fail("a user name may use letters, digits, '.', '_' and '-' (at most 64 characters)")
    app = app_context(ctx)
    token = create_token(app.stores.records, name)
    if records_in_chat:
        app.stores.records.set_consent(name, records=True)
    err_console.print(f"Created a token for [bold]{name}[/]. It is shown only once; only its hash is stored:")
    console.print(token, highlight=False, soft_wrap=True)


def revoke(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The user whose tokens to revoke."),
) -> None:
    """Revoke every API token of a user and sign out their web-UI sessions at once (a running server sees it on
    the next request). Their records stay; `healthcoach users add NAME` makes a new token."""
    from healthcoach.api.auth import revoke_tokens  # optional dependency: the api extra (fastapi)

    app = app_context(ctx)
    try:
        app.stores.records.get_user(name)
    except NotFound as exc:
        fail(exc.message)
    tokens, sessions = revoke_tokens(app.stores.records, name)
    console.print(f"Revoked {tokens} token(s) of [bold]{name}[/] and ended {sessions} web session(s).",
                  highlight=False)
