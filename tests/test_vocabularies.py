"""The vocabularies that used to live in code are package data, validated at load: the medicine names
and stems of the grounding check (knowledge/drugs.yaml) and the input guard's spelling
(guardrails/spelling.yaml)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from healthcoach.compose.grounding import medication_names
from healthcoach.errors import ConfigError
from healthcoach.guardrails.normalize import normalize
from healthcoach.guardrails.spelling import load_spelling, packaged_path
from healthcoach.knowledge.drugs import load_drugs


def test_packaged_drug_vocabulary_finds_medicines_by_stem_and_name() -> None:
    vocab = load_drugs()
    assert "statin" in vocab.stems and "aspirin" in vocab.names
    found = medication_names("Lisinopril in April, then Ozempic; my spine hurts and atorvastatin helps.")
    assert found == {"lisinopril", "ozempic", "atorvastatin"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("stems: [pril]\nnames: [Aspirin]\n", "lowercase letters only"),
        ("stems: [pril, pril]\nnames: [aspirin]\n", "duplicate entries ['pril']"),
        ("stems: [pril]\nnames: [aspirin]\nbrands: [x]\n", "unknown top-level keys ['brands']"),
        ("stems: []\nnames: [aspirin]\n", "stems"),
        ("stems: [pril\n", "invalid YAML"),
    ],
)
def test_a_broken_drug_vocabulary_names_the_file_and_the_problem(
    tmp_path: Path, body: str, reason: str
) -> None:
    path = tmp_path / "drugs.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_drugs(path)
    assert str(path) in err.value.message and reason in err.value.message


def test_packaged_spelling_expands_slang_and_corrects_safety_words() -> None:
    spelling = load_spelling()
    assert spelling.slang["kms"] == "kill myself" and "chest" in spelling.vocab
    assert normalize("kms rn") == "kill myself right now"
    assert normalize("chset pain, can't breath") == "chest pain, can't breathe"
    assert normalize("I play chess") == "i play chess"  # a common word is never "corrected"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace("  kms: kill myself", "  kms: kill myself\n  kms: kill"),
         "duplicate key 'kms'"),
        (lambda t: t.replace("'\\bhow 2\\b'", "'(how 2'"), "phrases.0.pattern"),
        (lambda t: t.replace("vocab: [", "vocab: [Chest, "), "'vocab'"),
        (lambda t: t + "\nextra: 1\n", "'extra'"),
    ],
)
def test_a_broken_spelling_file_names_the_file_and_the_field(
    tmp_path: Path, edit: Callable[[str], str], reason: str
) -> None:
    text = packaged_path().read_text()
    broken = edit(text)
    assert broken != text
    path = tmp_path / "spelling.yaml"
    path.write_text(broken)
    with pytest.raises(ConfigError) as err:
        load_spelling(path)
    assert "spelling.yaml" in err.value.message and reason in err.value.message
