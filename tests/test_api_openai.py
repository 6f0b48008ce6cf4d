"""The official `openai` client against a live server, unchanged: plain and streamed completions."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

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


def test_openai_client_plain(server: SampleServer, base_url: str) -> None:
    latest = server.truths["maria"]["hba1c"]["latest"]
    done = client(base_url, server.tokens["maria"]).chat.completions.create(
        model="healthcoach", messages=[{"role": "system", "content": "Be brief."},
                                       {"role": "user", "content": "What's my A1c?"}])
    text = done.choices[0].message.content or ""
    assert f"{latest['value']:g} %" in text and done.choices[0].finish_reason == "stop"
    extra = (done.model_extra or {})["healthcoach"]
    assert extra["citations"][0]["date"] == latest["date"] and extra["blocked"] is False
    assert done.usage and done.usage.total_tokens > 0


def test_openai_client_stream_and_history(server: SampleServer, base_url: str) -> None:
    stream = client(base_url, server.tokens["maria"]).chat.completions.create(
        model="healthcoach", stream=True, messages=[
            {"role": "user", "content": "What's my A1c?"},
            {"role": "assistant", "content": "Your most recent A1c was 6.1 %."},
            {"role": "user", "content": "What's my A1c?"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "6.1 %" in text and chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["healthcoach"]["citations"]


def test_openai_client_bad_token_is_401(base_url: str) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(base_url, "hc_wrong").chat.completions.create(
            model="healthcoach", messages=[{"role": "user", "content": "What's my A1c?"}])


def test_load_bench_runs_concurrent_clients(server: SampleServer, base_url: str) -> None:
    from healthcoach.evals.load import run_load_bench

    result = run_load_bench(base_url, server.tokens["maria"], clients=4, questions=3)
    assert result["errors"] == 0 and result["ok"] == 12 and result["p95_ms"] >= result["p50_ms"] > 0
