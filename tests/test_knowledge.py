"""The concept catalog and wellness topics: real lookups, real package data, real validation errors."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import require_shared
from healthcoach.errors import ConfigError
from healthcoach.knowledge.catalog import Catalog, find_wellness, load_catalog, load_wellness
from healthcoach.records.models import Category, system_name


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def topics(catalog: Catalog) -> list:
    return load_wellness(catalog=catalog)


# ───────────────────────────── finding concepts in what people type ─────────────────────────────


@pytest.mark.parametrize(
    ("text", "concept_id"),
    [
        ("whats my a1c", "a1c"),
        ("What's my HbA1c?", "a1c"),
        ("my last sugar test result", "a1c"),
        ("when did i last get a flu jab", "influenza_vaccine"),
        ("When's the last time I got a flu shot?", "influenza_vaccine"),
        ("what about LDL?", "ldl"),
        ("cholesterol", "total_cholesterol"),
        ("blood pressure", "blood_pressure"),
        ("how's my bp lately", "blood_pressure"),
        ("what is my kidney function", "egfr"),
        ("am I a smoker?", "smoking_status"),
        ("covid-19 booster", "covid19_vaccine"),
        ("what was the result of my covid test", "covid19_test"),
        ("my platelets", "platelets"),
        ("how much do I weigh", "weight"),
    ],
)
def test_find_resolves_what_people_say(catalog: Catalog, text: str, concept_id: str) -> None:
    found = catalog.find(text)
    assert found, f"nothing found in {text!r}"
    assert found[0][0].id == concept_id


def test_longest_synonym_wins_and_mentions_come_in_text_order(catalog: Catalog) -> None:
    found = catalog.find("Is my high blood pressure related to my LDL, HDL and hemoglobin A1c?")
    assert [c.id for c, _ in found] == ["hypertension", "ldl", "hdl", "a1c"]
    assert found[-1][1] == "hemoglobin a1c"  # not the CBC "hemoglobin"


def test_find_is_whole_word_and_reports_each_concept_once(catalog: Catalog) -> None:
    assert catalog.find("what was my last visit, and how fast did they treat it?") == []  # "ast" inside words
    assert [c.id for c, _ in catalog.find("ldl then ldl again")] == ["ldl"]
    spans = catalog.mentions("ldl then ldl again")
    assert [(m.start, m.end) for m in spans] == [(0, 3), (9, 12)]


def test_find_fuzzy_tolerates_typos_but_not_noise(catalog: Catalog) -> None:
    assert catalog.find_fuzzy("wat is my cholestrl")[0][0].id == "total_cholesterol"
    assert catalog.find_fuzzy("my blod presure")[0][0].id == "blood_pressure"
    for text in (
        "summarize my medical records",
        "list my allergies",
        "what are my active medications",
        "help",
    ):
        assert catalog.find_fuzzy(text) == [], text


def test_synonyms_are_unambiguous(catalog: Catalog) -> None:
    assert catalog.find("good cholesterol")[0][0].id == "hdl"
    assert catalog.find("bad cholesterol")[0][0].id == "ldl"
    assert catalog.find("pressure")[0][0].id == "blood_pressure"
    owners: dict[str, str] = {}
    for concept in catalog:
        for syn in concept.synonyms:
            assert syn == syn.lower().strip()
            assert owners.setdefault(syn, concept.id) == concept.id, syn


# ───────────────────────────── codes ─────────────────────────────


def test_by_code_and_codes_for(catalog: Catalog) -> None:
    a1c = catalog.by_code("LOINC:4548-4")
    assert a1c is not None and a1c.id == "a1c"
    assert {"LOINC:4548-4", "LOINC:17856-6", "LOINC:4549-2"} <= catalog.codes_for("a1c")
    assert catalog.by_code("LOINC:0000-0") is None
    assert catalog.by_code("nonsense") is None
    # CVX codes below 10 are written both with and without the leading zero.
    hep_b = catalog.by_code("CVX:08")
    assert hep_b is not None and hep_b is catalog.by_code("CVX:8") and hep_b.id == "hepatitis_b_vaccine"
    # Blood pressure finds panels and the stand-alone systolic/diastolic observations.
    assert {"LOINC:85354-9", "LOINC:55284-4", "LOINC:8480-6", "LOINC:8462-4"} <= catalog.codes_for(
        "blood_pressure"
    )
    assert catalog.get("blood_pressure") is catalog.by_code("LOINC:8462-4")
    assert catalog.get("no_such_concept") is None


def test_influenza_is_the_full_cvx_family(catalog: Catalog) -> None:
    expected = {
        "15", "16", "88", "111", "125", "126", "127", "128", "135", "140", "141", "144", "149", "150", "151",
        "153", "155", "158", "160", "161", "166", "168", "171", "185", "186", "194", "197", "200", "201",
        "202", "205", "231",
    }  # fmt: skip
    flu = catalog.codes_for("influenza_vaccine")
    assert {f"CVX:{c}" for c in expected} == {k for k in flu if k.startswith("CVX:")}


@pytest.mark.shared
def test_influenza_contains_every_flu_code_in_shared_facts(catalog: Catalog) -> None:
    facts = json.loads(require_shared("data/fhir/facts.json").read_text())
    missing = {f"CVX:{c}" for c in facts["flu_cvx_codes"]} - catalog.codes_for("influenza_vaccine")
    assert not missing


@pytest.mark.shared
def test_every_common_shared_observation_code_is_covered(catalog: Catalog) -> None:
    """Every Observation or Immunization code seen in >= 3 shared patients maps to a concept."""
    root = require_shared("data/fhir")
    patients: dict[str, set[str]] = defaultdict(set)
    for path in root.rglob("*.json"):
        if path.name == "facts.json":
            continue
        for entry in json.loads(path.read_text()).get("entry", []):
            res = entry.get("resource", {})
            rtype = res.get("resourceType")
            if rtype not in ("Observation", "Immunization"):
                continue
            concepts = [res.get("code" if rtype == "Observation" else "vaccineCode") or {}]
            concepts += [comp.get("code") or {} for comp in res.get("component", [])]
            for cc in concepts:
                for coding in cc.get("coding", []):
                    patients[f"{system_name(coding.get('system'))}:{coding.get('code')}"].add(path.name)
    common = {k for k, files in patients.items() if len(files) >= 3}
    assert len(common) > 50
    assert sorted(k for k in common if catalog.by_code(k) is None) == []


# ───────────────────────────── content ─────────────────────────────


def test_catalog_size_and_categories(catalog: Catalog) -> None:
    assert len(catalog) >= 60
    by_cat = {cat: len(catalog.by_category(cat)) for cat in Category}
    assert by_cat[Category.lab] >= 30
    assert by_cat[Category.vital] >= 8
    assert by_cat[Category.immunization] >= 12
    assert by_cat[Category.social_history] >= 2


def test_every_lab_explanation_mentions_reference_ranges(catalog: Catalog) -> None:
    for concept in catalog.by_category(Category.lab):
        assert "reference range" in concept.explanation.lower(), concept.id
        assert "clinician" in concept.explanation.lower(), concept.id


def test_explanations_are_short_plain_and_carry_no_thresholds(catalog: Catalog) -> None:
    for concept in catalog:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", concept.explanation) if s]
        assert 2 <= len(sentences) <= 4, (concept.id, len(sentences))
        # A digit that is not part of a name (A1c, B12, COVID-19, PHQ-9, T4) would be a threshold.
        assert not re.search(r"(?<![A-Za-z0-9-])\d", concept.explanation), concept.id


def test_related_ids_exist(catalog: Catalog) -> None:
    ldl = catalog.get("ldl")
    assert ldl is not None and {"total_cholesterol", "hdl", "triglycerides"} <= set(ldl.related)
    for concept in catalog:
        assert all(r in catalog for r in concept.related)


# ───────────────────────────── validation at load ─────────────────────────────

_GOOD = """
    id: {id}
    name: {name}
    category: lab
    synonyms: [{syn}]
    codes: [{code}]
    explanation: A test. Each lab sets its own reference range, so ask a clinician.
"""


def _write(tmp_path: Path, *items: str, extra: str = "") -> Path:
    body = "concepts:\n" + "".join("  -" + item.lstrip("\n")[3:] for item in items) + extra
    path = tmp_path / "concepts.yaml"
    path.write_text(body)
    return path


def _concept(id: str = "foo", name: str = "Foo", syn: str = "foo test", code: str = "LOINC:4548-4") -> str:
    return _GOOD.format(id=id, name=name, syn=syn, code=code)


def test_tmp_catalog_loads(tmp_path: Path) -> None:
    cat = load_catalog(_write(tmp_path, _concept(), _concept("bar", "Bar", "bar test", "LOINC:2093-3")))
    assert [c.id for c, _ in cat.find("foo test and bar test")] == ["foo", "bar"]


@pytest.mark.parametrize(
    ("items", "reason"),
    [
        ((_concept() + "    colour: red\n",), "colour"),
        ((_concept(syn="''"),), "empty synonym"),
        ((_concept(syn="Foo Test"),), "lowercase"),
        ((_concept(), _concept(syn="other")), "duplicate concept id"),
        ((_concept(), _concept("bar", "Bar", "foo test", "LOINC:2093-3")), "already claimed"),
        ((_concept(code="4548-4"),), "SYSTEM:code"),
        ((_concept(code="LOINC:4548-5"),), "check digit"),
        ((_concept(code="ICD10:E11.9"),), "SYSTEM:code"),
        ((_concept() + "    related: [nope]\n",), "related concept 'nope'"),
    ],
)
def test_bad_catalog_names_file_and_concept(tmp_path: Path, items: tuple[str, ...], reason: str) -> None:
    path = _write(tmp_path, *items)
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    message = str(err.value)
    assert str(path) in message
    assert "concept 'foo'" in message or "concept 'bar'" in message
    assert reason in message


def test_lab_without_reference_range_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, _concept().replace("Each lab sets its own reference range, so ask", "Ask"))
    with pytest.raises(ConfigError, match=r"concept 'foo'.*reference range"):
        load_catalog(path)


def test_broken_yaml_and_unknown_top_level_keys(tmp_path: Path) -> None:
    bad = tmp_path / "concepts.yaml"
    bad.write_text("concepts: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_catalog(bad)
    with pytest.raises(ConfigError, match="unknown top-level"):
        load_catalog(_write(tmp_path, _concept(), extra="extras: 1\n"))


# ───────────────────────────── wellness topics ─────────────────────────────

_DIRECTIVE = re.compile(r"\b(mg|take|takes|taking|dose|doses|dosage|stop taking)\b", re.IGNORECASE)


def test_wellness_topics_are_complete_and_safe(topics: list, catalog: Catalog) -> None:
    assert len(topics) >= 12
    ids = {t.id for t in topics}
    assert {"cholesterol", "blood_pressure", "blood_sugar", "sleep", "lower_back_flexibility"} <= ids
    for topic in topics:
        assert 4 <= len(topic.tips) <= 7 and 2 <= len(topic.ask_your_doctor) <= 4 and topic.sources
        assert all(cid in catalog for cid in topic.related_concepts)
        for tip in topic.tips:
            assert not _DIRECTIVE.search(tip), (topic.id, tip)
            # Numbers are written in words: the output guard checks every digit against the records.
            assert not re.search(r"\d", tip), (topic.id, tip)


@pytest.mark.parametrize(
    ("text", "topic_id"),
    [
        ("How can I improve my cholesterol?", "cholesterol"),
        ("exercises for lower back flexibility", "lower_back_flexibility"),
        ("how do I lower my blood pressure", "blood_pressure"),
        ("tips to get my a1c down", "blood_sugar"),
        ("how can I sleep better", "sleep"),
        ("help me quit smoking", "smoking_cessation"),
        ("how much water should I drink", "nutrition_hydration"),
        ("should I cut back on drinking", "alcohol"),
    ],
)
def test_find_wellness_picks_the_most_specific_topic(topics: list, text: str, topic_id: str) -> None:
    found = find_wellness(topics, text)
    assert found and found[0].id == topic_id
    assert found[0].match(text)


def test_wellness_tip_with_medication_advice_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "wellness.yaml"
    path.write_text(
        "topics:\n"
        "  - id: bad\n    title: Bad\n    triggers: [bad]\n"
        "    tips: [Walk daily., Sleep well., Eat plants., Take 20 mg of something.]\n"
        "    ask_your_doctor: [One?, Two?]\n    sources: [CDC]\n"
    )
    with pytest.raises(ConfigError) as err:
        load_wellness(path)
    assert str(path) in str(err.value) and "topic 'bad'" in str(err.value)


def test_wellness_unknown_related_concept_is_rejected(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "wellness.yaml"
    path.write_text(
        "topics:\n"
        "  - id: odd\n    title: Odd\n    triggers: [odd]\n    related_concepts: [nope]\n"
        "    tips: [Walk daily., Sleep well., Eat plants., Drink water.]\n"
        "    ask_your_doctor: [One?, Two?]\n    sources: [CDC]\n"
    )
    with pytest.raises(ConfigError, match=r"topic 'odd': related concept 'nope'"):
        load_wellness(path, catalog=catalog)
