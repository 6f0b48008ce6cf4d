"""A small client for any OpenAI-compatible chat endpoint (POST {base_url}/chat/completions), built for evals:
bounded concurrency, retries with exponential backoff, and rate limits respected (429: wait Retry-After).

It never logs message contents; a failed request is reported with its status and a short reason."""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
Message = dict[str, str]


@dataclass(frozen=True)
class EndpointConfig:
    """Where and how to ask: base URL (ending before /chat/completions), model, key, sampling, retries."""

    base_url: str
    model: str
    api_key: str | None = None
    max_tokens: int = 256
    temperature: float = 0.0
    timeout_s: float = 120.0
    max_retries: int = 5
    backoff_s: float = 1.0  # first retry waits about this long; each later retry doubles it (with jitter)
    max_wait_s: float = 60.0  # never sleep longer than this for one retry, whatever Retry-After says


@dataclass
class Answer:
    """One completed (or failed) request: the reply text, the extra fields the server sent, timing."""

    text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. healthcoach's `healthcoach` field
    latency_ms: float = 0.0  # the successful attempt only (waits for rate limits are not latency)
    attempts: int = 0
    waited_s: float = 0.0  # time spent waiting on 429 / backoff
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RateGate:
    """Shared by all workers: after a 429, nobody sends until the server's Retry-After has passed."""

    sleep: Callable[[float], None] = time.sleep
    _until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self) -> float:
        with self._lock:
            delay = self._until - time.monotonic()
        if delay > 0:
            self.sleep(delay)
            return delay
        return 0.0


class ChatEndpoint:
    """Asks an OpenAI-compatible endpoint; thread-safe (one httpx.Client shared by the workers)."""

    def __init__(self, config: EndpointConfig, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self.config, self.sleep, self.gate = config, sleep, RateGate(sleep)
        self.http = httpx.Client(base_url=config.base_url.rstrip("/"), headers=headers,
                                 timeout=config.timeout_s, transport=transport)

    def close(self) -> None:
        self.http.close()

    def ask(self, messages: Sequence[Message], api_key: str | None = None) -> Answer:
        """One chat completion, retried on 429 (after Retry-After), 5xx, timeouts and connection errors."""
        body = {"model": self.config.model, "messages": list(messages), "max_tokens": self.config.max_tokens,
                "temperature": self.config.temperature, "stream": False}
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        out = Answer()
        for attempt in range(1, self.config.max_retries + 2):
            out.attempts, out.waited_s = attempt, out.waited_s + self.gate.wait()
            t0 = time.perf_counter()
            try:
                resp = self.http.post("/chat/completions", json=body, headers=headers)
            except httpx.TransportError as exc:  # timeouts, refused or reset connections
                out.error = type(exc).__name__
            else:
                if resp.status_code == 200:
                    return self._parsed(out, resp, (time.perf_counter() - t0) * 1000)
                out.error = f"HTTP {resp.status_code}: {_reason(resp)}"
                if resp.status_code not in RETRY_STATUSES:
                    return out
                wait = retry_after(resp.headers.get("retry-after"))
                if resp.status_code == 429 and wait is not None:
                    self.gate.hold(min(wait, self.config.max_wait_s))
                    continue
            if attempt <= self.config.max_retries:
                delay = min(self.config.max_wait_s, self.config.backoff_s * 2 ** (attempt - 1))
                delay *= 0.5 + random.random() / 2  # jitter, so concurrent workers do not retry in step
                self.sleep(delay)
                out.waited_s += delay
        return out

    @staticmethod
    def _parsed(out: Answer, resp: httpx.Response, latency_ms: float) -> Answer:
        try:
            data = resp.json()
            text = data["choices"][0]["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            out.error = "HTTP 200 without a chat.completion body (choices[0].message.content)"
            return out
        out.text, out.latency_ms, out.error = str(text), latency_ms, None
        standard = ("choices", "id", "object", "created", "model")
        out.extra = {k: v for k, v in data.items() if k not in standard}
        return out

    def ask_all(self, conversations: Sequence[Sequence[Message]], concurrency: int = 1,
                keys: Sequence[str | None] | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[Answer]:
        """Ask every conversation (in order of the results), `concurrency` at a time."""
        done = [0]
        lock = threading.Lock()

        def one(i: int) -> Answer:
            answer = self.ask(conversations[i], keys[i] if keys else None)
            with lock:
                done[0] += 1
                if progress:
                    progress(done[0], len(conversations))
            return answer

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            return list(pool.map(one, range(len(conversations))))


def _reason(resp: httpx.Response) -> str:
    """A short, content-free reason from an error body (its `error` message), else the status phrase."""
    try:
        data = resp.json()
    except ValueError:
        return resp.reason_phrase
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        err = err.get("message")
    return str(err)[:200] if err else resp.reason_phrase
