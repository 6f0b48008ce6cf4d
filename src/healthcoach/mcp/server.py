"""The MCP server (official `mcp` SDK): the guarded record look-ups as tools, the person's summary and each
record category as resources.

Two transports: stdio for one person (`healthcoach mcp --user U`, what a desktop assistant launches), and
streamable HTTP (`healthcoach mcp --http`) where every request needs a bearer token from the API's token
store (`healthcoach users add NAME`): a token sees only its own user's records, and the SDK binds each MCP
session to the token that opened it. Tools run the coach's order: input guard on every free-text argument
(emergency help first), consent, then the look-up; every result carries record ids, dates and sources."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

import anyio.to_thread
import uvicorn
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp_types import ToolAnnotations
from pydantic import Field
from starlette.applications import Starlette

from healthcoach.api.auth import LOOPBACK, user_for_token
from healthcoach.errors import Unauthorized
from healthcoach.integrations.lookups import RecordLookups
from healthcoach.integrations.results import ToolResult
from healthcoach.records.models import CATEGORY_TITLES, Category
from healthcoach.store.records import RecordStore

UserOf = Callable[[], str]
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
URI = "healthcoach://"
INSTRUCTIONS = """healthcoach: one person's own health records (FHIR exports, wearables) and a guarded
wellness coach. It is not a doctor: it never diagnoses and never tells anyone to start, stop or change a
medicine or dose.
Use get_latest / get_series / list_medications / search_records for exact look-ups (every result lists the
records with ids, clinical dates and sources; cite them) and ask_coach for questions in plain words.
A result with blocked=true is a safety redirect: show its text to the person as it is, emergency help first.
With records consent off, record tools return the consent text and no records; ask_coach still answers
general questions."""

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Concept = Annotated[str, Field(min_length=1, max_length=200, description=(
    "A lab, vital, vaccine or other concept: 'A1c', 'LDL', 'blood pressure', 'flu shot'."))]
Since = Annotated[date | None, Field(description="Only records on or after this date (YYYY-MM-DD).")]
Until = Annotated[date | None, Field(description="Only records on or before this date (YYYY-MM-DD).")]


class StoreTokenVerifier:
    """The MCP SDK's TokenVerifier over the API's token store: the same tokens, the same users."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's user as an AccessToken (client_id and subject are the user id), or None."""
        user = await anyio.to_thread.run_sync(user_for_token, self.store, token)
        return AccessToken(token=token, client_id=user, subject=user, scopes=[]) if user else None


def token_user() -> str:
    """The user of the bearer token on the current HTTP request."""
    token = get_access_token()
    if token is None:  # the SDK refuses unauthenticated requests before any tool runs; fail closed anyway
        raise Unauthorized("no bearer token on this request")
    return token.subject or token.client_id


def register_tools(server: MCPServer, lookups: RecordLookups, user_of: UserOf) -> None:
    """The look-up tools and ask_coach, each for the caller's own user only."""

    @server.tool(annotations=READ_ONLY)
    def search_records(query: Text, category: Category | None = None, since: Since = None,
                       until: Until = None) -> ToolResult:
        """Find records by words or a question ("cholesterol tests", "knee surgery"): exact look-ups when it
        names a concept or category, hybrid semantic + keyword search otherwise. Optional filters: category,
        since, until (dates inclusive)."""
        return lookups.search_records(user_of(), query, category, since, until)

    @server.tool(annotations=READ_ONLY)
    def get_latest(concept: Concept) -> ToolResult:
        """The most recent record of a concept, with its value, clinical date and source."""
        return lookups.get_latest(user_of(), concept)

    @server.tool(annotations=READ_ONLY)
    def get_series(concept: Concept, since: Since = None,
                   until: Until = None) -> ToolResult:
        """Every record of a concept (e.g. all A1c results), newest first, optionally within dates."""
        return lookups.get_series(user_of(), concept, since, until)

    @server.tool(annotations=READ_ONLY)
    def list_medications(active: bool = True) -> ToolResult:
        """Medications on record: the active ones (default) or every one ever listed, with status and
        instructions as recorded. Listing only; never advice on taking or changing them."""
        return lookups.list_medications(user_of(), active)

    @server.tool(annotations=READ_ONLY)
    def summarize_records() -> ToolResult:
        """A cited summary: active conditions and medications, allergies, recent labs, vaccines, visits."""
        return lookups.summarize_records(user_of())

    @server.tool(annotations=READ_ONLY)
    def ask_coach(question: Text) -> ToolResult:
        """Ask the guarded health coach in plain words. The answer cites records ([n] markers resolve to
        `citations`); safety questions get a redirect (blocked=true) with emergency help first."""
        return lookups.ask_coach(user_of(), question)


def register_resources(server: MCPServer, lookups: RecordLookups, user_of: UserOf) -> None:
    """The person's summary, and one resource per record category (JSON: text, records with ids)."""

    @server.resource(f"{URI}summary", name="summary", title="Record summary", mime_type="application/json")
    def summary() -> str:
        """The cited record summary (same as the summarize_records tool)."""
        return lookups.summarize_records(user_of()).model_dump_json()

    for category in Category:
        server.resource(f"{URI}records/{category}", name=f"records-{category}",
                        title=CATEGORY_TITLES[category],
                        description=f"Every {category} record, newest first, with ids, dates and sources.",
                        mime_type="application/json")(_category_reader(lookups, user_of, category))


def _category_reader(lookups: RecordLookups, user_of: UserOf, category: Category) -> Callable[[], str]:
    """The reader of one category's resource (static resources take no arguments)."""
    def read() -> str:
        return lookups.category_records(user_of(), category).model_dump_json()

    read.__name__ = f"records_{category}"
    read.__doc__ = f"Every {category} record, newest first."
    return read


def build_server(lookups: RecordLookups, user_of: UserOf, store: RecordStore | None = None,
                 issuer: str = f"http://{LOOPBACK}") -> MCPServer:
    """The MCP server over these look-ups. With a store, every HTTP request needs one of its bearer tokens
    (`issuer` only fills the SDK's required setting: tokens are issued by `healthcoach users add`)."""
    auth = dict(token_verifier=StoreTokenVerifier(store),
                auth=AuthSettings(issuer_url=issuer, resource_server_url=None)) if store else {}
    server = MCPServer("healthcoach", title="healthcoach", instructions=INSTRUCTIONS, version="1",
                       log_level="WARNING", **auth)  # type: ignore[arg-type]
    register_tools(server, lookups, user_of)
    register_resources(server, lookups, user_of)
    return server


def run_stdio(lookups: RecordLookups, user_id: str) -> None:
    """Serve one user over stdin/stdout until the client closes it (nothing else may print to stdout)."""
    build_server(lookups, lambda: user_id).run("stdio")


def http_app(lookups: RecordLookups, store: RecordStore, host: str, port: int) -> Starlette:
    """The streamable HTTP app (endpoint /mcp), bearer tokens required."""
    server = build_server(lookups, token_user, store, issuer=f"http://{host}:{port}")
    return server.streamable_http_app(host=host)


def run_http(lookups: RecordLookups, store: RecordStore, host: str, port: int) -> None:
    """Serve streamable HTTP at http://host:port/mcp until stopped."""
    uvicorn.run(http_app(lookups, store, host, port), host=host, port=port, log_level="warning")
