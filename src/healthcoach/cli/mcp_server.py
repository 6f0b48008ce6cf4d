"""`healthcoach mcp`: the records and the guarded coach as MCP tools for AI assistants (Claude Desktop, IDE
agents). stdio for one person, or streamable HTTP with the API's bearer tokens."""

from __future__ import annotations

import logging
import sys

import typer

from healthcoach.cli.common import app_context, err_console, fail
from healthcoach.integrations.lookups import RecordLookups

DEFAULT_PORT = 8765
LOOPBACK = "127.0.0.1"


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


def mcp(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", help="stdio: serve this user's records to the assistant "
                                    "that launched this command."),
    http: bool = typer.Option(False, "--http", help="Serve streamable HTTP at /mcp instead; every request "
                              "needs a bearer token from `healthcoach users add NAME`."),
    host: str = typer.Option(LOOPBACK, "--host", help="--http: address to bind."),
    port: int = typer.Option(DEFAULT_PORT, "--port", help="--http: port."),
) -> None:
    """Serve your records and the guarded coach over MCP (tools: search_records, get_latest, get_series,
    list_medications, summarize_records, ask_coach; resources: your summary and each record category)."""
    if http == bool(user):
        fail("give exactly one of --user NAME (stdio, one person) or --http (bearer tokens)")
    try:
        from healthcoach.mcp.server import run_http, run_stdio  # optional dependency: the mcp extra
    except ImportError as exc:
        fail(f"the MCP server needs the mcp extra: pip install 'healthcoach[mcp]' ({exc})")
    # stdout is the protocol channel under stdio: logs go to stderr only.
    logging.basicConfig(stream=sys.stderr, force=True, level=logging.getLogger().level)
    app = app_context(ctx)
    lookups = RecordLookups(app.coach, via="mcp")
    if user:
        run_stdio(lookups, user)
        return
    err_console.print(f"MCP (streamable HTTP): http://{host}:{port}/mcp — send 'Authorization: Bearer "
                      "<token>'. A wellness coach, not a doctor.", highlight=False)
    run_http(lookups, app.stores.records, host, port)
