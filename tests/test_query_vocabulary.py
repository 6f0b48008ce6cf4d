"""The query vocabulary is data validated at load: every operation has words, no phrase means two
operations, units are ones we can convert, concept ids exist; a broken file names itself and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from healthcoach.errors import ConfigError
from healthcoach.knowledge.catalog import load_catalog
from healthcoach.knowledge.vocabulary import Operation, load_vocabulary
from healthcoach.retrieval.operations import OPERATIONS

CATALOG = load_catalog()
VOCAB = load_vocabulary(catalog=CATALOG)
PACKAGED = Path(__file__).resolve().parents[1] / "src" / "healthcoach" / "knowledge" / "query_words.yaml"


def _broken(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(PACKAGED.read_text())
    edit(data)
    path = tmp_path / "query_words.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_every_operation_has_words_and_a_function() -> None:
    assert set(OPERATIONS) == set(Operation)
    for op in Operation:
        assert VOCAB.data.operations[op], op


@pytest.mark.parametrize(("text", "operation"), [
    ("what was my highest blood pressure", Operation.max),
    ("what was my hieghest blood pressure", Operation.max),  # a typo
    ("my most recent weight", Operation.latest),  # "most recent" is not "most"
    ("my lowest hdl ever", Operation.min),
    ("how many a1c tests have i had", Operation.count),
    ("how many a1c tests since my first one", Operation.count),  # counting wins over "since my first"
    ("has my a1c improved since my first test", Operation.change),
    ("is my ldl better or worse than last year", Operation.compare),
    ("is my weight going up or down", Operation.trend),
    ("my avarage glucose", Operation.mean),
    ("my very frist cholesterol result", Operation.first),
    ("and before that", Operation.nth_previous),
    ("did i ever have pneumonia", Operation.exists),
])
def test_words_map_to_operations(text: str, operation: Operation) -> None:
    hits = VOCAB.operations(VOCAB.fix_typos(text))
    assert hits and hits[0][0] is operation, hits


@pytest.mark.parametrize(("text", "unit"), [
    ("my weight in pounds", "lb"), ("weight in lbs", "lb"), ("in kilos", "kg"), ("my height in feet", "ft_in"),
    ("temperature in fahrenheit", "degF"), ("glucose in mmol", "mmol/L"), ("my weight in pouds", "lb"),
])
def test_unit_words(text: str, unit: str) -> None:
    found = VOCAB.unit(VOCAB.fix_typos(text))
    assert found is not None and found[0] == unit


def test_visit_kinds_and_who_questions() -> None:
    assert set(VOCAB.encounter_classes("did i go to the hospital in 2023")) == {"emergency", "inpatient"}
    assert VOCAB.encounter_classes("when was my last checkup") == ("wellness",)
    assert VOCAB.field(VOCAB.fix_typos("who is my doctor?")) == "clinician"
    assert VOCAB.mentions_visit(VOCAB.fix_typos("when was i last at the doctor's"))


@pytest.mark.parametrize(("label", "social"), [
    ("Full-time employment (finding)", True),
    ("Received higher education (finding)", True),
    ("Victim of intimate partner abuse (finding)", True),
    ("Stress (finding)", True),
    ("Post-traumatic stress disorder", False),
    ("Prediabetes", False),
    ("Essential hypertension (disorder)", False),
])
def test_social_findings(label: str, social: bool) -> None:
    assert VOCAB.is_social_finding(label) is social


def test_a_phrase_in_two_operations_stops_loading(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["operations"]["min"].append("highest"))
    with pytest.raises(ConfigError, match=r"query_words\.yaml.*'highest' belongs to both"):
        load_vocabulary(path)


def test_an_operation_without_words_stops_loading(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["operations"].pop("trend"))
    with pytest.raises(ConfigError, match="operations without phrases: trend"):
        load_vocabulary(path)


def test_a_unit_without_a_conversion_stops_loading(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["units"].append({"id": "stone", "quantity": "mass", "phrases": ["stone"]}))
    with pytest.raises(ConfigError, match="unit 'stone' has no conversion"):
        load_vocabulary(path)


def test_an_unknown_concept_stops_loading(tmp_path: Path) -> None:
    path = _broken(tmp_path, lambda d: d["label_terms"].update(gout=["gout"]))
    with pytest.raises(ConfigError, match="concept 'gout' is not in the catalog"):
        load_vocabulary(path, catalog=CATALOG)


def test_unknown_keys_and_uppercase_phrases_stop_loading(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown top-level keys \['operaions'\]"):
        load_vocabulary(_broken(tmp_path, lambda d: d.update(operaions={})))
    with pytest.raises(ConfigError, match="lowercase"):
        load_vocabulary(_broken(tmp_path, lambda d: d["operations"]["max"].append("Highest")))


def test_the_vocabulary_ships_in_the_package() -> None:
    from importlib import resources

    assert resources.files("healthcoach.knowledge").joinpath("query_words.yaml").is_file()
