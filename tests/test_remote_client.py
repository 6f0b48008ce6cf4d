"""The eval runner's endpoint client: it waits what a 429's Retry-After says, backs off on server errors,
gives up on client errors at once, keeps results in order under concurrency, and needs no network to test."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx
import pytest

from healthcoach.evals.remote_client import ChatEndpoint, EndpointConfig, retry_after


def completion(text: str, **extra: object) -> httpx.Response:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}}
    body = {"id": "x", "object": "chat.completion", "model": "m", "choices": [choice], **extra}
    return httpx.Response(200, json=body)


Handler = Callable[[httpx.Request], httpx.Response]


def endpoint(handler: Handler, sleeps: list[float], **cfg: object) -> ChatEndpoint:
    config = EndpointConfig("http://endpoint.test/v1", "m", api_key="k1", backoff_s=0.5,
                            **cfg)  # type: ignore[arg-type]
    return ChatEndpoint(config, transport=httpx.MockTransport(handler), sleep=sleeps.append)


def test_a_429_waits_the_retry_after_seconds_then_succeeds() -> None:
    statuses = iter([429, 429, 200])
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status == 429:
            return httpx.Response(429, headers={"Retry-After": "3"}, json={"error": {"message": "slow down"}})
        assert request.headers["authorization"] == "Bearer k1"
        assert json.loads(request.content)["messages"][-1]["content"] == "hi"
        return completion("hello", usage={"total_tokens": 3})

    answer = endpoint(handler, sleeps).ask([{"role": "user", "content": "hi"}])
    assert answer.ok and answer.text == "hello" and answer.attempts == 3
    assert [round(s, 1) for s in sleeps] == [3.0, 3.0] and answer.extra == {"usage": {"total_tokens": 3}}


def test_server_errors_back_off_with_growing_waits_and_give_up_after_the_retries() -> None:
    sleeps: list[float] = []
    answer = endpoint(lambda r: httpx.Response(503, text="busy"), sleeps, max_retries=3).ask(
        [{"role": "user", "content": "hi"}])
    assert not answer.ok and answer.error == "HTTP 503: Service Unavailable" and answer.attempts == 4
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2] <= 2.0


def test_a_client_error_is_not_retried_and_says_why() -> None:
    sleeps: list[float] = []
    answer = endpoint(lambda r: httpx.Response(401, json={"ok": False, "error": "invalid or revoked token"}),
                      sleeps).ask([{"role": "user", "content": "hi"}])
    assert answer.error == "HTTP 401: invalid or revoked token" and answer.attempts == 1 and sleeps == []


def test_a_200_without_a_completion_is_an_error_not_an_empty_answer() -> None:
    odd = endpoint(lambda r: httpx.Response(200, json={"nope": 1}), [])
    answer = odd.ask([{"role": "user", "content": "x"}])
    assert not answer.ok and "choices[0].message.content" in (answer.error or "")


def test_concurrent_requests_keep_their_order_and_per_request_keys() -> None:
    in_flight, peak, lock = [0], [0], threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            threading.Event().wait(0.02)
            question = json.loads(request.content)["messages"][-1]["content"]
            return completion(f"{question} as {request.headers['authorization']}")
        finally:
            with lock:
                in_flight[0] -= 1

    questions = [[{"role": "user", "content": f"q{i}"}] for i in range(12)]
    answers = endpoint(handler, []).ask_all(questions, concurrency=4, keys=[f"u{i % 2}" for i in range(12)])
    assert [a.text for a in answers] == [f"q{i} as Bearer u{i % 2}" for i in range(12)]
    assert 1 < peak[0] <= 4


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), ("", None), ("soon", None),
                                                 ("Wed, 21 Oct 2015 07:28:05 GMT", 5.0)])
def test_retry_after_reads_seconds_and_http_dates(header: str, seconds: float | None) -> None:
    now = 1445412480.0  # 2015-10-21 07:28:00 UTC
    assert retry_after(header, now=now) == seconds
