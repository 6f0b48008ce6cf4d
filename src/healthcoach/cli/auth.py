"""`healthcoach users add NAME`: create a user and print an API token once (only its sha256 is stored)."""

from __future__ import annotations

import typer

from healthcoach.cli.common import app_context, console, err_console, fail
from healthcoach.errors import InvalidInput
from healthcoach.user_names import check_user_name


def register_users(users_app: typer.Typer) -> None:
    users_app.command("add")(add)


def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name (letters, digits, '.', '_' or '-'; at most 64)."),
    records_in_chat: bool = typer.Option(False, "--records-in-chat", help="Also opt in to using records in chat."),
) -> None:
    """Create a user (or add a token to an existing one) and print a new API token. It is shown only once:
    store it safely; it signs in to the API (Authorization: Bearer) and the web UI (user name + token)."""
    from healthcoach.api.auth import create_token  # optional dependency: the api extra (fastapi)

    try:
        check_user_name(name)
    except InvalidInput as exc:
        fail(exc.message)
    app = app_context(ctx)
    token = create_token(app.stores.records, name)
    if records_in_chat:
        app.stores.records.set_consent(name, records=True)
    err_console.print(f"Created a token for [bold]{name}[/]. It is shown only once; only its hash is stored:")
    console.print(token, highlight=False, soft_wrap=True)
