"""The examples in examples/ run as a user would run them: offline, over the bundled synthetic person."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GUARD_CACHE

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_langchain_example_runs_offline_and_shows_cited_guarded_answers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHCOACH_LLM__")}
    env.update(PYTHONPATH=str(ROOT / "src"), HF_HUB_OFFLINE="1", HEALTHCOACH_CACHE_DIR=str(GUARD_CACHE))
    example = ROOT / "examples" / "langchain_chain.py"
    done = subprocess.run([sys.executable, str(example)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    low = out.lower()
    assert "your most recent hemoglobin a1c was" in low and "before that, your hemoglobin a1c was" in low
    assert "-> redirect: I can't advise" in out
    assert "-> escalate: This could be a medical emergency. Call 911" in out
    assert "skipped: set HEALTHCOACH_LLM__PROVIDER" in out
