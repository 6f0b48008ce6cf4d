"""Triage files are data validated at load: a broken file stops start-up with a ConfigError naming the
file and the field; the shipped folder covers every presentation the issue lists, each citing its
public sources, and every file's own examples and phrases escalate."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from healthcoach.errors import ConfigError
from healthcoach.guardrails import load_policy
from healthcoach.guardrails.normalize import normalize
from healthcoach.guardrails.triage import Triage
from healthcoach.guardrails.triage_policy import MIN_FILES

POLICY_DIR = Path(__file__).resolve().parents[1] / "guardrails"
POLICY = load_policy(POLICY_DIR)
TRIAGE = Triage(POLICY.triage)
FILES = {f.id: f for f in POLICY.triage.files}


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "guardrails"
    shutil.copytree(POLICY_DIR, dest)
    return dest


def _edit(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_shipped_folder_covers_the_presentations() -> None:
    assert len(FILES) >= MIN_FILES
    wanted = {"chest_pain_cardiac", "stroke_neuro", "breathing", "anaphylaxis", "bleeding_gi",
              "bleeding_vaginal_postpartum", "bleeding_trauma", "abdominal", "obstetric", "infant_fever",
              "child_listless", "dehydration_child", "hypoglycaemia", "hyperglycaemia_dka", "poisoning",
              "overdose_medication_error", "mental_health_crisis", "head_injury", "spine_cauda_equina", "burns", "eye",
              "sepsis_postop", "skin_sjs", "choking", "seizure", "heat_stroke", "hypothermia", "testicular_torsion",
              "limb_ischaemia", "pe_dvt", "meningitis", "collapse_unresponsive", "hypertensive_crisis",
              "clinician_deterioration"}
    assert wanted <= set(FILES)


@pytest.mark.parametrize("file_id", sorted(FILES))
def test_every_file_cites_sources_and_covers_voices_and_languages(file_id: str) -> None:
    f = FILES[file_id]
    assert f.sources and all(s.url.startswith("https://") and s.title for s in f.sources)
    assert {"es", "fr"} <= set(f.languages)
    assert {e.voice for e in f.examples} >= set(f.voices)
    assert f.response_key in POLICY.responses and f.clinician_response_key in POLICY.responses


def test_mental_health_crisis_answers_with_988() -> None:
    f = FILES["mental_health_crisis"]
    assert f.category == "self_harm" and "{crisis_line}" in POLICY.responses[f.response_key]


def _examples() -> list[tuple[str, str, str]]:
    return [(f.id, e.voice, e.text) for f in FILES.values() for e in f.examples]


@pytest.mark.parametrize(("file_id", "voice", "text"), _examples())
def test_every_triage_example_is_a_red_flag(file_id: str, voice: str, text: str) -> None:
    hit = TRIAGE.check([normalize(text)])
    assert hit is not None, (file_id, text)
    if file_id != "clinician_deterioration":
        assert hit.voice == voice, (file_id, text, hit.reason)


def _phrases() -> list[tuple[str, str]]:
    out = [(f.id, p) for f in FILES.values() for p in f.phrases]
    out += [(f.id, p) for f in FILES.values() for lex in f.languages.values() for p in lex.phrases]
    return out


@pytest.mark.parametrize(("file_id", "phrase"), _phrases())
def test_every_triage_phrase_is_a_red_flag(file_id: str, phrase: str) -> None:
    hit = TRIAGE.check([normalize(phrase)])
    assert hit is not None, (file_id, phrase)


@pytest.mark.parametrize(("file_id", "text"), [(f.id, n) for f in FILES.values() for n in f.near_misses])
def test_no_triage_near_miss_is_a_red_flag(file_id: str, text: str) -> None:
    assert TRIAGE.check([normalize(text)]) is None, file_id


# --- a broken triage file stops start-up, naming the file and the field -------------------------
def test_unknown_key(policy_copy: Path) -> None:
    _edit(policy_copy / "triage" / "burns.yaml", lambda d: d.update({"respnse_key": "emergency"}))
    with pytest.raises(ConfigError, match=r"triage/burns\.yaml: invalid field 'respnse_key'"):
        load_policy(policy_copy)


def test_missing_sources(policy_copy: Path) -> None:
    _edit(policy_copy / "triage" / "choking.yaml", lambda d: d.pop("sources"))
    with pytest.raises(ConfigError, match=r"triage/choking\.yaml: invalid field 'sources'"):
        load_policy(policy_copy)


def test_source_must_be_a_web_page(policy_copy: Path) -> None:
    def change(d: dict[str, object]) -> None:
        d["sources"] = [{"publisher": "NHS", "title": "Choking", "url": "nhs.uk/choking"}]
    _edit(policy_copy / "triage" / "choking.yaml", change)
    with pytest.raises(ConfigError, match=r"choking\.yaml: invalid field 'sources\.0\.url'"):
        load_policy(policy_copy)


def test_invalid_regex(policy_copy: Path) -> None:
    def change(d: dict[str, object]) -> None:
        d["discriminators"][0]["all"] = ["(unclosed"]  # type: ignore[index]
    _edit(policy_copy / "triage" / "seizure.yaml", change)
    with pytest.raises(ConfigError, match=r"triage/seizure\.yaml: invalid field 'discriminators\.0\.all\.0'.*regex"):
        load_policy(policy_copy)


def test_unknown_term(policy_copy: Path) -> None:
    def change(d: dict[str, object]) -> None:
        d["discriminators"][0]["all"] = ["{no_such_term}"]  # type: ignore[index]
    _edit(policy_copy / "triage" / "seizure.yaml", change)
    with pytest.raises(ConfigError, match=r"seizure\.yaml.*unknown term \{no_such_term\}"):
        load_policy(policy_copy)


def test_unknown_response_key(policy_copy: Path) -> None:
    _edit(policy_copy / "triage" / "eye.yaml", lambda d: d.update({"response_key": "call_a_friend"}))
    with pytest.raises(ConfigError, match=r"eye\.yaml: invalid field 'response_key': 'call_a_friend'"):
        load_policy(policy_copy)


def test_id_must_match_file_name(policy_copy: Path) -> None:
    _edit(policy_copy / "triage" / "eye.yaml", lambda d: d.update({"id": "eyes"}))
    with pytest.raises(ConfigError, match=r"eye\.yaml: invalid field 'id'"):
        load_policy(policy_copy)


def test_needs_spanish_and_french(policy_copy: Path) -> None:
    _edit(policy_copy / "triage" / "hypothermia.yaml", lambda d: d["languages"].pop("fr"))  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"hypothermia\.yaml.*lexicon missing for fr"):
        load_policy(policy_copy)


def test_every_covered_voice_needs_an_example(policy_copy: Path) -> None:
    def change(d: dict[str, object]) -> None:
        d["examples"] = [e for e in d["examples"] if e["voice"] != "clinician"]  # type: ignore[attr-defined,index]
    _edit(policy_copy / "triage" / "burns.yaml", change)
    with pytest.raises(ConfigError, match=r"burns\.yaml.*voice\(s\) clinician"):
        load_policy(policy_copy)


def test_threshold_measure_must_be_known(policy_copy: Path) -> None:
    def change(d: dict[str, object]) -> None:
        d["thresholds"][0]["when"] = {"temprature_c": {"ge": 38}}  # type: ignore[index]
    _edit(policy_copy / "triage" / "infant_fever.yaml", change)
    with pytest.raises(ConfigError, match=r"infant_fever\.yaml: invalid field 'thresholds\.0\.when\.temprature_c"):
        load_policy(policy_copy)


def test_range_needs_a_bound(policy_copy: Path) -> None:
    def change(d: dict[str, object]) -> None:
        d["thresholds"][0]["when"] = {"spo2": {}}  # type: ignore[index]
    _edit(policy_copy / "triage" / "breathing.yaml", change)
    with pytest.raises(ConfigError, match=r"breathing\.yaml: invalid field 'thresholds\.0\.when\.spo2'"):
        load_policy(policy_copy)


def test_broken_yaml(policy_copy: Path) -> None:
    (policy_copy / "triage" / "burns.yaml").write_text("id: burns\n  title: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"burns\.yaml: invalid YAML"):
        load_policy(policy_copy)


def test_shared_file_is_validated(policy_copy: Path) -> None:
    _edit(policy_copy / "triage" / "_shared.yaml", lambda d: d.update({"negation_cues": "no"}))
    with pytest.raises(ConfigError, match=r"triage/_shared\.yaml: invalid field 'negation_cues'"):
        load_policy(policy_copy)


def test_language_notice_required(policy_copy: Path) -> None:
    _edit(policy_copy / "responses.yaml", lambda d: d.pop("language_fr"))
    with pytest.raises(ConfigError, match=r"_shared\.yaml: invalid field 'detect_languages'.*language_fr"):
        load_policy(policy_copy)


def test_too_few_files(policy_copy: Path) -> None:
    for path in sorted((policy_copy / "triage").glob("[a-h]*.yaml")):
        path.unlink()
    with pytest.raises(ConfigError, match=r"triage/: \d+ presentation files; at least 25"):
        load_policy(policy_copy)


def test_missing_folder(policy_copy: Path) -> None:
    shutil.rmtree(policy_copy / "triage")
    with pytest.raises(ConfigError, match="triage folder missing"):
        load_policy(policy_copy)
