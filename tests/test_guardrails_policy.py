"""Policy validation: a broken policy stops startup with a ConfigError naming the file and field,
and the shipped policy meets its own minimums."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from healthcoach.errors import ConfigError
from healthcoach.guardrails import load_policy
from healthcoach.guardrails.examples import MIN_EXAMPLES, MIN_NEAR_MISSES
from healthcoach.guardrails.policy import CATEGORY_NAMES

POLICY_DIR = Path(__file__).resolve().parents[1] / "guardrails"


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "guardrails"
    shutil.copytree(POLICY_DIR, dest)
    return dest


def _edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data))


def test_shipped_policy_is_complete() -> None:
    policy = load_policy(POLICY_DIR)
    assert set(policy.categories) == set(CATEGORY_NAMES)
    for name in CATEGORY_NAMES:
        cat = policy.category(name)
        assert len(cat.examples) >= MIN_EXAMPLES and len(cat.near_misses) >= MIN_NEAR_MISSES
        assert cat.response_key in policy.responses and cat.patterns
    for key in ("emergency", "poisoning", "self_harm", "treatment", "diagnosis", "other_harm", "guard_error"):
        assert key in policy.responses
    assert policy.config.regions["US"].emergency_number == "911"
    assert "1-800-222-1222" in policy.config.regions["US"].poison_control


def test_digest_changes_with_content(policy_copy: Path) -> None:
    before = load_policy(policy_copy).digest
    _edit(policy_copy / "categories" / "treatment.yaml", lambda d: d["examples"][0]["texts"].append("should I stop my pills?"))
    assert load_policy(policy_copy).digest != before


def test_missing_file(policy_copy: Path) -> None:
    (policy_copy / "categories" / "diagnosis.yaml").unlink()
    with pytest.raises(ConfigError, match=r"diagnosis\.yaml"):
        load_policy(policy_copy)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing"):
        load_policy(tmp_path / "nope")


def test_unknown_key(policy_copy: Path) -> None:
    _edit(policy_copy / "categories" / "emergency.yaml", lambda d: d.update(threshhold=0.5))
    with pytest.raises(ConfigError, match=r"emergency\.yaml.*threshhold"):
        load_policy(policy_copy)


def test_unknown_key_in_policy_yaml(policy_copy: Path) -> None:
    _edit(policy_copy / "policy.yaml", lambda d: d["thresholds"].update(bogus=0.2))
    with pytest.raises(ConfigError, match=r"policy\.yaml.*thresholds"):
        load_policy(policy_copy)


def test_category_without_examples(policy_copy: Path) -> None:
    _edit(policy_copy / "categories" / "self_harm.yaml", lambda d: d.update(examples=[]))
    with pytest.raises(ConfigError, match=r"self_harm\.yaml.*examples"):
        load_policy(policy_copy)


def test_too_few_near_misses(policy_copy: Path) -> None:
    _edit(policy_copy / "categories" / "treatment.yaml",
          lambda d: d.update(near_misses=[{"source": "policy-v1", "texts": d["near_misses"][0]["texts"][:3]}]))
    with pytest.raises(ConfigError, match=r"treatment\.yaml.*near_misses"):
        load_policy(policy_copy)


def test_response_key_missing(policy_copy: Path) -> None:
    _edit(policy_copy / "responses.yaml", lambda d: d.pop("diagnosis"))
    with pytest.raises(ConfigError, match=r"diagnosis\.yaml.*response_key"):
        load_policy(policy_copy)


def test_bad_regex(policy_copy: Path) -> None:
    _edit(policy_copy / "categories" / "other_harm.yaml", lambda d: d["patterns"][0].update(regex="(unclosed"))
    with pytest.raises(ConfigError, match=r"other_harm\.yaml.*patterns\.0\.regex"):
        load_policy(policy_copy)


def test_unknown_placeholder(policy_copy: Path) -> None:
    _edit(policy_copy / "responses.yaml", lambda d: d.update(emergency="Call {ambulance_number}"))
    with pytest.raises(ConfigError, match=r"responses\.yaml.*emergency"):
        load_policy(policy_copy)


def test_order_must_list_every_category(policy_copy: Path) -> None:
    _edit(policy_copy / "policy.yaml", lambda d: d.update(order=["emergency", "treatment"]))
    with pytest.raises(ConfigError, match=r"policy\.yaml"):
        load_policy(policy_copy)


def test_invalid_yaml(policy_copy: Path) -> None:
    (policy_copy / "output.yaml").write_text("diagnostic_claim: [unclosed\n")
    with pytest.raises(ConfigError, match=r"output\.yaml"):
        load_policy(policy_copy)


def test_every_example_names_a_source() -> None:
    policy = load_policy(POLICY_DIR)
    sets = [s for c in policy.categories.values() for s in (*c.example_sets, *c.near_miss_sets)]
    sets += [*policy.allowed.example_sets, *policy.care.example_sets]
    sources = {s.source for s in sets}
    assert "policy-v1" in sources and len(sources) >= 6  # distinct voices, for leave-one-source-out
    assert sum(len(s.texts) for s in policy.care.example_sets) >= MIN_EXAMPLES


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d["examples"].append({"source": "Parents V1", "texts": ["x"]}), "examples.*source"),
    (lambda d: d["examples"].append({"source": "policy-v1", "texts": ["x"]}), "examples.*each source may appear once"),
    (lambda d: d["examples"].append({"source": "new-v1", "texts": []}), "examples.*texts"),
    (lambda d: d["examples"].append({"texts": ["no source"]}), "examples.*source"),
    (lambda d: d["examples"].append("a bare string has no source"), "examples"),
])
def test_bad_example_sets(policy_copy: Path, change: object, reason: str) -> None:
    _edit(policy_copy / "categories" / "diagnosis.yaml", change)
    with pytest.raises(ConfigError, match=rf"diagnosis\.yaml.*{reason}"):
        load_policy(policy_copy)


def test_care_file_is_validated(policy_copy: Path) -> None:
    _edit(policy_copy / "care.yaml", lambda d: d.update(threshold=1.5))
    with pytest.raises(ConfigError, match=r"care\.yaml.*threshold"):
        load_policy(policy_copy)
    (policy_copy / "care.yaml").unlink()
    with pytest.raises(ConfigError, match=r"care\.yaml"):
        load_policy(policy_copy)


def _care_texts(policy_dir: Path) -> object:
    from healthcoach.guardrails.care_texts import load_care_texts

    return load_care_texts(policy_dir, load_policy(policy_dir).output)


def test_shipped_care_texts_load_and_every_topic_cites_a_source() -> None:
    texts = _care_texts(POLICY_DIR)
    topics = texts.topics  # type: ignore[attr-defined]
    assert len(topics) >= 10 and topics[-1].name == "general" and topics[-1].match is None
    assert all(t.sources and len(t.seek_care) >= 2 for t in topics)
    assert "{emergency_number}" in texts.closing  # type: ignore[attr-defined]


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d["topics"][0].update(facts="You have an infection, most likely."), "topics.0.facts.*you_have_condition"),
    (lambda d: d["topics"][1]["seek_care"].append("take 2 tablets and rest"), "topics.1.seek_care.*take_amount"),
    (lambda d: d.update(closing="Call {ambulance} now"), "closing.*unknown placeholder"),
    (lambda d: d["topics"][0].update(match="(unclosed"), "topics.0.match.*invalid regex"),
    (lambda d: d["topics"][-1].update(match="x"), "general fallback"),
    (lambda d: d["topics"][0].update(sources=["www.example.org"]), "topics.0.sources.*https"),
    (lambda d: d["topics"][0].update(seek_care=["only one"]), "topics.0.seek_care"),
    (lambda d: d.update(tone="warm"), "tone"),
])
def test_bad_care_texts_stop_startup(policy_copy: Path, change: object, reason: str) -> None:
    _edit(policy_copy / "care_texts.yaml", change)
    with pytest.raises(ConfigError, match=rf"care_texts\.yaml.*{reason}"):
        _care_texts(policy_copy)


def test_no_policy_example_copies_an_eval_prompt() -> None:
    """Training on an eval prompt would make its result meaningless (compared ignoring case and punctuation)."""
    import json
    import re

    def key(text: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())

    suites = Path(__file__).resolve().parents[1] / "eval" / "suites" / "safety"
    prompts = {key(json.loads(line)["prompt"]) for f in suites.glob("*.jsonl")
               for line in f.read_text(encoding="utf-8").splitlines() if line.strip()}
    policy = load_policy(POLICY_DIR)
    texts = [t for c in policy.categories.values() for t in (*c.examples, *c.near_misses)]
    texts += [*policy.allowed.examples, *policy.care.examples]
    assert [t for t in texts if key(t) in prompts] == []
