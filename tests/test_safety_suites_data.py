"""The hand-written voice suites of issue 11: they load, meet their sizes, and copy nothing.

These files are data written by named authoring personas (`source`), in many voices (`voice`),
in English, Spanish and French (`lang`), and split into a dev half the guard's authors may read
and a test half that is only reported (`split`, fixed by a hash of the id). The checks here are
about the data itself; no guard runs.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import require_shared
from healthcoach.evals.safety import load_cases

REPO = Path(__file__).resolve().parents[1]
SUITE_DIR = REPO / "eval" / "suites" / "safety"
SHARED = REPO.parent / "shared"

# file -> minimum rows (issue 11 asks for >= 300 / 200 / 60; these are the sizes we promise)
MINIMUMS = {
    "emergency_voices.jsonl": 320,
    "health_anxiety.jsonl": 220,
    "multilingual.jsonl": 70,
    "treatment_voices.jsonl": 120,
    "diagnosis_voices.jsonl": 80,
    "allowed_lookalikes.jsonl": 120,
}
# files whose every row carries one label
SINGLE_LABEL = {
    "emergency_voices.jsonl": "emergency",
    "health_anxiety.jsonl": "allowed",
    "treatment_voices.jsonl": "treatment",
    "diagnosis_voices.jsonl": "diagnosis",
    "allowed_lookalikes.jsonl": "allowed",
}
VOICES = {"self", "parent", "bystander", "clinician", "caregiver", "teen", "partner"}
LANGS = {"en", "es", "fr"}
NEAR_DUPLICATE = 0.9


def rows(name: str) -> list[dict[str, Any]]:
    """The raw JSON objects of one new suite file (the loader drops voice/lang/split)."""
    text = (SUITE_DIR / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def all_new_rows() -> Iterator[tuple[str, dict[str, Any]]]:
    for name in MINIMUMS:
        for row in rows(name):
            yield name, row


def expected_split(case_id: str) -> str:
    """dev when the first byte of sha256(id) is even, test when it is odd."""
    return "dev" if hashlib.sha256(case_id.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def near_duplicates(new: list[str], old: list[str]) -> list[tuple[str, str]]:
    """Pairs (new, old) whose difflib ratio exceeds NEAR_DUPLICATE, both compared lower-cased.

    A length window and the character-multiset bound (difflib's quick_ratio) rule out most pairs
    before the full ratio is computed; both are upper bounds on the ratio, so no pair above the
    threshold is missed. When ``old`` is ``new`` each unordered pair is compared once.
    """
    same = old is new
    olds = sorted(((o.strip().lower(), i) for i, o in enumerate(old)), key=lambda t: len(t[0]))
    lengths = [len(o) for o, _ in olds]
    counts = [Counter(o) for o, _ in olds]
    found: list[tuple[str, str]] = []
    for j, prompt in enumerate(new):
        p = prompt.strip().lower()
        pc = Counter(p)
        lo = bisect.bisect_left(lengths, len(p) * NEAR_DUPLICATE / (2 - NEAR_DUPLICATE))
        hi = bisect.bisect_right(lengths, len(p) * (2 - NEAR_DUPLICATE) / NEAR_DUPLICATE)
        for k in range(lo, hi):
            o, i = olds[k]
            if same and i <= j:
                continue
            if 2 * sum((pc & counts[k]).values()) / (len(p) + len(o)) <= NEAR_DUPLICATE:
                continue
            if difflib.SequenceMatcher(None, p, o).ratio() > NEAR_DUPLICATE:
                found.append((prompt, old[i]))
    return found


def test_every_new_file_loads_with_the_project_loader_and_meets_its_minimum() -> None:
    for name, minimum in MINIMUMS.items():
        cases = load_cases([SUITE_DIR / name])
        assert len(cases) >= minimum, f"{name}: {len(cases)} rows < {minimum}"


def test_ids_are_unique_across_the_whole_suite() -> None:
    cases = load_cases([SUITE_DIR])  # raises ConfigError on a repeated id
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))


def test_single_label_files_hold_only_their_label() -> None:
    for name, label in SINGLE_LABEL.items():
        wrong = [r["id"] for r in rows(name) if r["label"] != label]
        assert wrong == [], f"{name}: rows not labelled {label}: {wrong}"
    anxious = [r["id"] for r in rows("health_anxiety.jsonl") if r["orig_category"] != "health_anxiety"]
    assert anxious == []


def test_multilingual_has_enough_spanish_french_and_emergencies() -> None:
    ml = rows("multilingual.jsonl")
    langs = Counter(r["lang"] for r in ml)
    labels = Counter(r["label"] for r in ml)
    assert langs["es"] >= 30 and langs["fr"] >= 30, langs
    assert set(langs) == {"es", "fr"}
    assert labels["emergency"] >= 40, labels
    assert labels["allowed"] > 0 and labels["treatment"] > 0 and labels["diagnosis"] > 0, labels
    for lang in ("es", "fr"):
        assert {r["label"] for r in ml if r["lang"] == lang} == {"emergency", "allowed", "treatment", "diagnosis"}


def test_every_row_has_source_voice_lang_and_the_hashed_split() -> None:
    for name, row in all_new_rows():
        where = f"{name}:{row.get('id')}"
        assert isinstance(row.get("source"), str) and row["source"].startswith("writer-"), where
        assert row.get("voice") in VOICES, where
        assert row.get("lang") in LANGS, where
        assert isinstance(row.get("orig_category"), str) and row["orig_category"], where
        assert row.get("split") == expected_split(row["id"]), where
        if name != "multilingual.jsonl":
            assert row["lang"] == "en", where


def test_sources_are_varied_and_each_writes_emergencies_and_benign_items() -> None:
    by_source: dict[str, Counter[str]] = {}
    for _, row in all_new_rows():
        by_source.setdefault(row["source"], Counter())[row["label"]] += 1
    assert len(by_source) >= 6, sorted(by_source)
    for source, labels in by_source.items():
        assert sum(labels.values()) >= 10, f"{source}: only {sum(labels.values())} rows"
        assert labels["emergency"] > 0 and labels["allowed"] > 0, f"{source}: {dict(labels)}"


def test_both_splits_are_populated_in_every_file() -> None:
    for name in MINIMUMS:
        splits = Counter(r["split"] for r in rows(name))
        assert splits["dev"] > 0 and splits["test"] > 0, f"{name}: {dict(splits)}"


def test_emergencies_cover_every_voice_and_some_follow_ups() -> None:
    emg = rows("emergency_voices.jsonl")
    assert {r["voice"] for r in emg} == VOICES
    assert sum(1 for r in emg if r.get("history")) >= 5
    assert sum(1 for r in emg if "with_record_question" in r["orig_category"]) >= 10


def new_prompts() -> list[str]:
    return [row["prompt"] for _, row in all_new_rows()]


def old_suite_prompts() -> list[str]:
    new_names = set(MINIMUMS)
    return [
        c.prompt
        for path in sorted(SUITE_DIR.glob("*.jsonl"))
        if path.name not in new_names
        for c in load_cases([path])
    ]


def test_no_new_prompt_copies_an_existing_suite_prompt() -> None:
    new, old = new_prompts(), old_suite_prompts()
    exact = {p.strip().lower() for p in old} & {p.strip().lower() for p in new}
    assert exact == set()
    assert near_duplicates(new, old) == []


def test_no_new_prompt_repeats_another_new_prompt() -> None:
    new = new_prompts()
    assert len({p.strip().lower() for p in new}) == len(new)
    assert near_duplicates(new, new) == []


@pytest.mark.parametrize("kind", ["exact", "near"])
def test_no_new_prompt_copies_a_shared_evalset_prompt(kind: str) -> None:
    evalsets = require_shared("evalsets")
    shared = [
        json.loads(line)["prompt"]
        for path in sorted(evalsets.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    new = new_prompts()
    if kind == "exact":
        assert {p.strip().lower() for p in shared} & {p.strip().lower() for p in new} == set()
    else:
        assert near_duplicates(new, shared) == []
