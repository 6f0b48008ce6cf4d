"""`healthcoach serve`: the API and the web UI in one server (uvicorn)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from healthcoach.cli.common import app_context, console, fail
from healthcoach.errors import HealthCoachError
from healthcoach.settings import APISettings, Settings

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")  # the API's own list (not imported: fastapi is optional)

if TYPE_CHECKING:
    from healthcoach.container import CoachBundle


def register(app: typer.Typer) -> None:
    app.command()(serve)


def run_server(settings: Settings, host: str | None = None, port: int | None = None,
               coach_bundle: CoachBundle | None = None, banner: str | None = None) -> None:
    """Build the app for these settings (host/port override them), print the URLs and serve until stopped.

    Raises ConfigError for local single-user mode on any address but a loopback one."""
    import uvicorn  # optional dependency: the api extra

    from healthcoach.api.app import create_app  # optional dependency: the api extra (fastapi)

    api = settings.api.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v is not None})
    settings = settings.model_copy(update={"api": api})
    app = create_app(settings, coach_bundle)
    if banner:
        console.print(banner)
    for line in server_lines(api, app.state.launch.secret if app.state.launch else None):
        console.print(line, highlight=False, soft_wrap=True)
    # h11 refuses larger request heads itself (the app's gate checks them again, with a clear 431).
    uvicorn.run(app, host=api.host, port=api.port, log_level="warning", http="h11",
                h11_max_incomplete_event_size=api.max_header_bytes)


def server_lines(api: APISettings, launch_secret: str | None) -> list[str]:
    """What `serve` prints: where the UI and API are, how to get in, and warnings about the address."""
    shown = "127.0.0.1" if api.host in ("0.0.0.0", "::") else api.host
    base = f"http://{'[' + shown + ']' if ':' in shown else shown}:{api.port}"
    lines = []
    if launch_secret:
        lines += [f"[bold]Web UI:[/] {base}/ui/?key={launch_secret}",
                  f"[bold]API:[/] {base}/v1 (docs: {base}/docs) with 'Authorization: Bearer {launch_secret}'",
                  f"Local single-user mode as [bold]{api.local_user}[/]: only this computer can connect, and only "
                  "with the link above (its key is new at every start; keep it to yourself)."]
    else:
        lines += [f"[bold]Web UI:[/] {base}/ui/    [bold]API:[/] {base}/v1 (docs: {base}/docs)",
                  "Sign in with a user name and a token from `healthcoach users add NAME`."]
    if api.host not in LOOPBACK_HOSTS:
        lines.append(f"[bold yellow]warning:[/] listening on {api.host}, beyond this computer, over plain HTTP: "
                     "tokens and health records cross the network unencrypted. Put healthcoach behind HTTPS (a "
                     "reverse proxy) and set HEALTHCOACH_API__ALLOWED_HOSTS to its name.")
    lines.append("[dim]healthcoach is a wellness coach, not a doctor. In an emergency call 911.[/]")
    return lines


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1). Any other "
                                    "address serves plain HTTP beyond this computer and needs token mode."),
    port: int | None = typer.Option(None, "--port", help="Port (default 8000)."),
) -> None:
    """Serve the HTTP API (/v1, docs at /docs) and the web UI (/ui) until stopped."""
    try:
        run_server(app_context(ctx).settings, host, port)
    except HealthCoachError as exc:
        fail(exc.message)
