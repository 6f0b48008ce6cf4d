"""`healthcoach serve`: the API and the web UI in one server (uvicorn)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from healthcoach.cli.common import app_context, console, fail
from healthcoach.errors import HealthCoachError
from healthcoach.settings import Settings

if TYPE_CHECKING:
    from healthcoach.container import CoachBundle


def register(app: typer.Typer) -> None:
    app.command()(serve)


def run_server(settings: Settings, host: str | None = None, port: int | None = None,
               coach_bundle: CoachBundle | None = None, banner: str | None = None) -> None:
    """Build the app for these settings (host/port override them), print the URLs and serve until stopped.

    Raises ConfigError for local single-user mode on any address but 127.0.0.1."""
    import uvicorn  # optional dependency: the api extra

    from healthcoach.api.app import create_app  # optional dependency: the api extra (fastapi)

    api = settings.api.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v is not None})
    settings = settings.model_copy(update={"api": api})
    app = create_app(settings, coach_bundle)
    shown = "127.0.0.1" if api.host in ("0.0.0.0", "::") else api.host
    base = f"http://{shown}:{api.port}"
    if banner:
        console.print(banner)
    console.print(f"[bold]Web UI:[/] {base}/ui/    [bold]API:[/] {base}/v1 (docs: {base}/docs)", highlight=False)
    if api.local_user:
        console.print(f"Local single-user mode as [bold]{api.local_user}[/]: no sign-in, only this computer "
                      "can connect.", highlight=False)
    else:
        console.print("Sign in with a user name and a token from `healthcoach users add NAME`.")
    console.print("healthcoach is a wellness coach, not a doctor. In an emergency call 911.", style="dim")
    uvicorn.run(app, host=api.host, port=api.port, log_level="warning")


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Port (default 8000)."),
) -> None:
    """Serve the HTTP API (/v1, docs at /docs) and the web UI (/ui) until stopped."""
    try:
        run_server(app_context(ctx).settings, host, port)
    except HealthCoachError as exc:
        fail(exc.message)
