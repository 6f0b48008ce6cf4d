"""A generic OpenAI client sees everything without knowing about healthcoach: the model list, the sources
in plain `content`, annotations pointing at each [n] marker, and API docs that load without internet."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from healthcoach.api.app import create_app
from healthcoach.api.testing import SampleServer, live_server, sample_server
from healthcoach.store.embeddings import Embedder


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> SampleServer:
    return sample_server(embedder)


@pytest.fixture(scope="module")
def base_url(server: SampleServer) -> Iterator[str]:
    with live_server(create_app(server.settings, server.bundle, ui=False)) as url:
        yield url


def client(base_url: str, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=token, max_retries=0, timeout=60)


def test_openai_client_lists_the_model(server: SampleServer, base_url: str) -> None:
    c = client(base_url, server.tokens["maria"])
    assert [m.id for m in c.models.list()] == ["healthcoach"]
    assert c.models.retrieve("healthcoach").owned_by == "healthcoach"
    with pytest.raises(openai.NotFoundError):
        c.models.retrieve("gpt-4o")
    with pytest.raises(openai.AuthenticationError):
        client(base_url, "hc_wrong").models.list()


def test_plain_content_carries_the_sources_as_footnotes(server: SampleServer, base_url: str) -> None:
    latest = server.truths["maria"]["hba1c"]["latest"]
    done = client(base_url, server.tokens["maria"]).chat.completions.create(
        model="healthcoach", messages=[{"role": "user", "content": "What's my A1c?"}])
    message = done.choices[0].message
    content = message.content or ""
    answer, _, sources = content.partition("**Sources**")
    assert "[1]" in answer and sources, content
    footnote = next(line for line in sources.splitlines() if line.startswith("[1] "))
    assert latest["date"] in footnote and f"{latest['value']:g} %" in footnote and "A1c" in footnote
    notes = message.annotations or []
    assert notes and notes[0].type == "url_citation"
    cite = notes[0].url_citation
    assert content[cite.start_index:cite.end_index] == "[1]" and latest["date"] in cite.title
    record = httpx.get(f"{base_url}{cite.url}", headers={"Authorization": f"Bearer {server.tokens['maria']}"})
    assert record.status_code == 200 and record.json()["date"].startswith(latest["date"])
    other = httpx.get(f"{base_url}{cite.url}", headers={"Authorization": f"Bearer {server.tokens['bob']}"})
    assert other.status_code == 404  # another user's record is not found, not forbidden


def test_streamed_content_ends_with_the_footnotes(server: SampleServer, base_url: str) -> None:
    stream = client(base_url, server.tokens["maria"]).chat.completions.create(
        model="healthcoach", stream=True, messages=[{"role": "user", "content": "What's my A1c?"}])
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert re.search(r"\*\*Sources\*\*\s+\[1\] \d{4}-\d{2}-\d{2} · ", text), text


def test_footnotes_can_be_turned_off(server: SampleServer) -> None:
    api = server.settings.api.model_copy(update={"citation_footnotes": False})
    settings = server.settings.model_copy(update={"api": api})
    with TestClient(create_app(settings, server.bundle, ui=False)) as c:
        body = c.post("/v1/chat/completions", headers={"Authorization": f"Bearer {server.tokens['maria']}"},
                      json={"model": "healthcoach", "messages": [{"role": "user", "content": "What's my A1c?"}]}
                      ).json()
    message = body["choices"][0]["message"]
    assert "Sources" not in message["content"] and "[1]" in message["content"]
    assert message["annotations"][0]["url_citation"]["url"].startswith("/v1/records/")


def test_docs_load_without_internet(server: SampleServer) -> None:
    with TestClient(create_app(server.settings, server.bundle, ui=False)) as c:
        page = c.get("/docs")
        assert page.status_code == 200
        scripts = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert scripts and all(s.startswith("/") for s in scripts), scripts  # nothing from a CDN
        for asset in scripts:
            assert c.get(asset).status_code == 200, asset
        assert c.get("/openapi.json").json()["paths"]["/v1/models"]
