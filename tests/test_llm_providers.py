"""Provider factory (lazy imports, clear errors), local-vs-remote, and the remote-consent rule checked on
the wire: an OpenAI-compatible endpoint receives no record content unless the profile opted in."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from healthcoach.compose.llm import INSTALL_HINT, LLMComposer, build_chat_model, is_remote, records_allowed
from healthcoach.compose.prompts import Prompts
from healthcoach.errors import ConfigError
from healthcoach.settings import LLMSettings, Settings
from llm_fakes import OutputGuardOnly, a1c_answer

REPLY = "Your most recent A1c was 6.1% on October 8, 2026 [1]."


class FakeOpenAI(BaseHTTPRequestHandler):
    """A tiny OpenAI chat.completions endpoint that keeps every request body it receives."""

    bodies: ClassVar[list[dict[str, Any]]] = []
    reply = REPLY

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append({"path": self.path, **body})
        base = {"id": "c1", "created": 0, "model": body.get("model", "m")}
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in self.reply.split(" "):
                chunk = {**base, "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": {"role": "assistant", "content": word + " "},
                                      "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            done = {**base, "object": "chat.completion.chunk",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
            return
        payload = json.dumps({**base, "object": "chat.completion",
                              "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": self.reply}}],
                              "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    FakeOpenAI.bodies = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def openai_settings(base_url: str) -> LLMSettings:
    return LLMSettings(provider="openai", model="any-model", base_url=base_url, api_key="k", timeout_s=10)


def test_none_means_templates_only() -> None:
    assert build_chat_model(LLMSettings()) is None


def test_openai_and_ollama_are_built_with_their_endpoint() -> None:
    chat = build_chat_model(openai_settings("http://10.0.0.5:8000/v1"))
    assert type(chat).__name__ == "ChatOpenAI" and chat.openai_api_base == "http://10.0.0.5:8000/v1"  # type: ignore[union-attr]
    chat = build_chat_model(LLMSettings(provider="ollama", model="smollm2:135m", base_url="http://127.0.0.1:11434"))
    assert type(chat).__name__ == "ChatOllama" and chat.base_url == "http://127.0.0.1:11434"  # type: ignore[union-attr]


def test_missing_extra_is_one_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_openai", None)  # import now raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'healthcoach\[llm\]'") as err:
        build_chat_model(openai_settings("http://127.0.0.1:1/v1"))
    assert err.value.message == INSTALL_HINT


def test_bad_llm_settings_are_config_errors(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="needs a model name"):
        build_chat_model(LLMSettings(provider="ollama"))
    with pytest.raises(ConfigError, match="GGUF file"):
        build_chat_model(LLMSettings(provider="llamacpp", model=str(tmp_path / "missing.gguf")))


@pytest.mark.parametrize(("provider", "url", "remote"), [
    ("none", None, False), ("llamacpp", None, False),
    ("ollama", None, False), ("ollama", "http://localhost:11434", False), ("ollama", "http://gpu-box:11434", True),
    ("openai", None, True), ("openai", "https://api.example.com/v1", True), ("openai", "http://127.0.0.1:8080/v1", False),
    ("openai", "http://[::1]:8080/v1", False), ("openai", "http://llm.localhost/v1", False),
    ("openai", "http://192.168.1.20:8000/v1", True),
])
def test_is_remote(provider: Any, url: str | None, remote: bool) -> None:
    settings = LLMSettings(provider=provider, model="m", base_url=url)
    assert is_remote(settings) is remote
    assert records_allowed(settings, remote_consent=False) is (not remote)
    assert records_allowed(settings, remote_consent=True)


@pytest.mark.parametrize("consent", [False, True])
def test_remote_endpoint_gets_records_only_with_consent(server: str, consent: bool) -> None:
    settings = openai_settings(server)
    chat = build_chat_model(settings)
    assert chat is not None
    composer = LLMComposer(chat, Prompts.load(Settings().prompts_dir), OutputGuardOnly())
    answer = a1c_answer()
    answer.general_text = "Hemoglobin A1c reflects average blood sugar over roughly the past two to three months."
    # The coach computes this from the profile; a remote endpoint is the case that matters.
    allowed = consent  # == records_allowed(<remote settings>, remote_consent=consent)
    items = list(composer.stream("What's my A1c?", [], answer, records_allowed=allowed))
    run = items[-1]
    assert len(FakeOpenAI.bodies) == 1
    body = FakeOpenAI.bodies[0]
    assert body["path"] == "/v1/chat/completions" and body["stream"] is True
    sent = json.dumps(body["messages"])
    record_content = ["Hemoglobin A1c/Hemoglobin.total", "6.1", "6.5", "2026-10-08", "Riverside", "metformin",
                      "Take 1 tablet"]
    if consent:
        assert all(v in sent for v in record_content)
        assert run.kept and run.text == REPLY  # type: ignore[union-attr]
    else:
        assert [v for v in record_content if v in sent] == []
        assert "What's my A1c?" in sent and "average blood sugar" in sent
        # the endpoint's record-looking text is not shown: it could not have come from records it never saw
        assert not run.kept and run.text == answer.text  # type: ignore[union-attr]
