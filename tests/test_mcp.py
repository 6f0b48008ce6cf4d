"""The MCP server through the SDK's own client: over streamable HTTP with the API's bearer tokens (401 without
one, each token sees only its own records, a session stays with the token that opened it), over stdio as
`healthcoach mcp --user U` in a subprocess, and the look-ups' guard and consent rules."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from conftest import GUARD_CACHE, TODAY, settings_for
from healthcoach.api.testing import SampleServer, live_server, sample_server
from healthcoach.container import build_stores
from healthcoach.integrations.lookups import RecordLookups
from healthcoach.mcp.server import http_app
from healthcoach.privacy.audit import list_audit
from healthcoach.records.models import Category
from healthcoach.sample.generator import write_person
from healthcoach.store.embeddings import Embedder

TOOLS = {"search_records", "get_latest", "get_series", "list_medications", "summarize_records", "ask_coach"}
EMERGENCY = "my husband collapsed, he is not breathing and his lips are blue"
T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> SampleServer:
    return sample_server(embedder)


@pytest.fixture(scope="module")
def url(server: SampleServer) -> Iterator[str]:
    lookups = RecordLookups(server.bundle.coach, via="mcp")
    app = http_app(lookups, server.bundle.stores.records, "127.0.0.1", 0)
    with live_server(app) as base:  # type: ignore[arg-type]
        yield f"{base}/mcp"


def as_user(url: str, token: str, statuses: list[int] | None = None) -> Client:
    """The SDK's client over streamable HTTP, sending the token as a bearer token (and noting each HTTP
    status in `statuses` when given)."""
    async def note(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=300,
                              event_hooks={"response": [note]})
    return Client(streamable_http_client(url, http_client=http))


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def test_a_client_lists_the_tools_and_gets_a_cited_a1c_a_flu_date_and_an_emergency_response(
        server: SampleServer, url: str) -> None:
    truth = server.truths["maria"]

    async def session() -> tuple[set[str], dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with as_user(url, server.tokens["maria"]) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            return (tools, await call(client, "get_latest", concept="A1c"),
                    await call(client, "get_latest", concept="flu shot"),
                    await call(client, "ask_coach", question="What's my A1c?"),
                    await call(client, "ask_coach", question=EMERGENCY))

    tools, a1c, flu, asked, emergency = run(session())
    assert tools == TOOLS
    record = a1c["records"][0]
    assert (record["value"], record["date"]) == (f"{truth['hba1c']['latest']['value']:g} %",
                                                 truth["hba1c"]["latest"]["date"])
    assert record["record_id"] and "FHIR export" in record["source"] and a1c["total"] > 1
    assert flu["records"][0]["date"] == truth["flu_shots"]["latest"]["date"]
    assert "[1]" in asked["text"] and asked["citations"][0]["record_id"] == asked["records"][0]["record_id"]
    assert emergency["blocked"] and emergency["action"] == "escalate"
    assert "911" in emergency["text"].splitlines()[0]


def test_without_a_valid_bearer_token_the_endpoint_answers_401(url: str) -> None:
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    assert httpx.post(url, json=hello, headers=headers).status_code == 401
    bad = httpx.post(url, json=hello, headers={**headers, "Authorization": "Bearer hc_not-a-token"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")
    statuses: list[int] = []
    with pytest.raises(BaseException) as refused:  # the SDK client raises its error inside an ExceptionGroup
        run(as_user(url, "hc_not-a-token", statuses).__aenter__())
    assert any(isinstance(e, MCPError) for e in leaves(refused.value)) and set(statuses) == {401}


def test_a_token_sees_only_its_own_users_records(server: SampleServer, url: str) -> None:
    async def bob() -> tuple[dict[str, Any], dict[str, Any], str]:
        async with as_user(url, server.tokens["bob"]) as client:
            labs = await client.read_resource("healthcoach://records/lab")
            return (await call(client, "get_latest", concept="A1c"),
                    await call(client, "search_records", query="hemoglobin A1c"), labs.contents[0].text)

    latest, search, labs = run(bob())
    assert latest["records"] == [] and search["records"] == [] and json.loads(labs)["records"] == []
    maria_ids = {r.id for r in server.bundle.stores.records.query("maria")}
    assert maria_ids and not maria_ids & {r["record_id"] for r in latest["records"] + search["records"]}


def test_a_session_answers_only_the_token_that_opened_it(server: SampleServer, url: str) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    maria = {**accept, "Authorization": f"Bearer {server.tokens['maria']}"}
    opened = httpx.post(url, json=init, headers=maria)
    session = opened.headers["mcp-session-id"]
    stolen = httpx.post(url, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
                        headers={**accept, "Authorization": f"Bearer {server.tokens['bob']}",
                                 "mcp-session-id": session, "mcp-protocol-version": "2025-06-18"})
    assert opened.status_code == 200 and stolen.status_code == 404


def test_resources_are_the_summary_and_one_per_category(server: SampleServer, url: str) -> None:
    async def read() -> tuple[list[str], dict[str, Any]]:
        async with as_user(url, server.tokens["maria"]) as client:
            listed = [str(r.uri) for r in (await client.list_resources()).resources]
            meds = await client.read_resource("healthcoach://records/medication")
            return listed, json.loads(meds.contents[0].text)

    listed, meds = run(read())
    assert listed[0] == "healthcoach://summary" and len(listed) == 1 + len(Category)  # one per category
    assert "healthcoach://records/immunization" in listed
    assert meds["records"] and all(r["category"] == "medication" and r["record_id"] for r in meds["records"])


@pytest.fixture
def lookups(server: SampleServer) -> RecordLookups:
    return RecordLookups(server.bundle.coach, via="mcp")


@pytest.mark.parametrize("tool", ["search_records", "get_latest", "get_series", "ask_coach"])
def test_an_emergency_in_any_free_text_argument_gets_the_emergency_response(lookups: RecordLookups,
                                                                            tool: str) -> None:
    call_: Callable[..., Any] = getattr(lookups, tool)
    result = call_("maria", EMERGENCY)
    assert result.blocked and result.action == "escalate" and result.category == "emergency"
    assert result.text.startswith("This could be a medical emergency. Call 911")


def test_with_records_off_record_tools_return_the_consent_text_and_general_questions_still_answer(
        server: SampleServer, lookups: RecordLookups) -> None:
    store = server.bundle.stores.records
    store.set_consent("maria", records=False)
    try:
        latest = lookups.get_latest("maria", "A1c")
        meds = lookups.list_medications("maria")
        general = lookups.ask_coach("maria", "What is A1c?")
        emergency = lookups.search_records("maria", EMERGENCY)
    finally:
        store.set_consent("maria", records=True)
    for off in (latest, meds):
        assert off.records == [] and off.warnings == ["records_not_used"]
        assert "healthcoach consent --user maria --records on" in off.text
    assert general.records == [] and "records_not_used" in general.warnings and "A1c" in general.text
    assert emergency.action == "escalate"


def test_each_look_up_is_audited_with_record_ids_only(server: SampleServer, lookups: RecordLookups) -> None:
    result = lookups.get_series("maria", "LDL", since=TODAY.replace(year=TODAY.year - 3))
    entry = list_audit(server.bundle.stores.records, "maria")[-1]
    assert entry.action == "lookup" and entry.detail["tool"] == "get_series" and entry.detail["via"] == "mcp"
    assert entry.detail["records_read"] == [r.record_id for r in result.records] and result.records
    assert all(r.value and r.value not in json.dumps(entry.detail) for r in result.records)


def test_stdio_server_as_an_assistant_launches_it(tmp_path: Path, embedder: Embedder) -> None:
    path, truth = write_person(tmp_path / "sample", seed=42, today=TODAY)
    stores = build_stores(settings_for(tmp_path / "data"), embedder=embedder)
    stores.ingestor.ingest("maria", [path])
    stores.records.set_consent("maria", records=True)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")]),
           "HEALTHCOACH_CACHE_DIR": str(GUARD_CACHE), "HF_HUB_OFFLINE": "1"}
    params = StdioServerParameters(command=sys.executable, env=env, args=[
        "-m", "healthcoach", "--data-dir", str(tmp_path / "data"), "mcp", "--user", "maria"])

    async def session() -> tuple[set[str], dict[str, Any], dict[str, Any]]:
        async with Client(params, read_timeout_seconds=300) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            return tools, await call(client, "get_latest", concept="A1c"), await call(
                client, "ask_coach", question=EMERGENCY)

    tools, a1c, emergency = run(session())
    assert tools == TOOLS
    assert a1c["records"][0]["date"] == truth["hba1c"]["latest"]["date"] and a1c["records"][0]["record_id"]
    assert emergency["action"] == "escalate"


def test_the_cli_refuses_neither_or_both_transports(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "HEALTHCOACH_HEAP_SCRUB": "0"}
    done = subprocess.run([sys.executable, "-m", "healthcoach", "--data-dir", str(tmp_path), "mcp"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "exactly one of --user NAME" in done.stderr
