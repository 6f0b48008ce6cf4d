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


# Messages written after the rules, in other voices (texting style, typos, Spanish, French): each names
# a red flag the issue lists (newborn fever, a limp child, a bystander's collapse, a clinician's falling
# obs, insulin and paracetamol errors, vomiting blood, saddle numbness, cold limbs with breathlessness,
# mouth blisters after a new drug, colicky pain, fever after surgery).
RED_FLAGS = [
    'newborn is 12 days old and feels super hot, thermometer says 38.1',
    "my 10 wk old son won't feed and is burning up, 101 on the forehead thing",
    'toddler threw up 4 times and now just lies there, barely opens his eyes',
    'my 3yo is floppy and grey and wont wake properly',
    'the guy next to me at the gym just collapsed and isnt breathing',
    'theres been a crash, a car hit a motorbike and the rider isnt moving',
    "my roommate froze mid sentence and now she's not answering me at all",
    'my coworker slumped at his desk and his lips are blue',
    'pt sats dropping from 94 to 86 despite 4L nasal cannula',
    'bp 82/46 despite 2L fluids, pt getting drowsy',
    'my patient post op day 2 is spiking 39.2 and tachy to 128',
    '74yo presents with sudden aphasia and right hemiparesis',
    'i took 20 units instead of 2 of my novolog omg',
    'accidentally gave my daughter the adult dose of tylenol twice',
    'my grandma took her metoprolol 3 times today cause she forgot',
    'i think i double dosed my seizure meds',
    'threw up blood this morning, like a lot',
    'sudden massive headache and now i cant see right out of my left eye',
    'back pain for a week and now i cant feel anything when i wipe',
    'both my legs went cold and numb all of a sudden and i cant catch my breath',
    'got painful blisters inside my mouth and my eyes are burning since starting the new antibiotic',
    'waves of horrible pain in my belly, i cant sit still and keep throwing up',
    'had my c section 6 days ago and now fever and the wound is leaking',
    'mon bébé de 2 mois a de la fièvre et ne boit plus',
    'mon père a une douleur dans la poitrine et il transpire beaucoup',
    'ma femme ne répond plus, elle est tombée',
    'mi hijo de 3 años se tomó unas pastillas de la abuela',
    'mi papá no puede hablar y tiene la cara torcida',
    'my sugar is 43 and im all shaky and sweaty cant think straight',
    'bg 480 and i keep puking, type 1',
    "my dad's bp is 210/125 and he says his head is killing him and his vision is blurry",
    'my friend took a bunch of xanax with alcohol and wont wake up',
    'my kid ate one of those dishwasher pods',
    'i cant stop bleeding after my tooth was pulled, soaked through loads of gauze and feel faint',
    "my husband says he'd be better off dead and he has a gun",
    "my baby's lips went blue while feeding and she stopped breathing for a bit",
]
# Worried but safe, and general questions: no red flag.
NOT_RED_FLAGS = [
    'I walked past a smoker, should I call my doctor?',
    'water went up my nose while swimming',
    'my prescribed dose seems high, should I be worried?',
    'my heart skipped a beat once yesterday, is that bad?',
    'my 4 year old has a temp of 38 and a runny nose but is playing fine',
    'I got a paper cut and it bled a bit',
    "my chest feels a bit tight when I'm anxious before exams",
    'I had a headache yesterday after not drinking enough water',
    'is it normal to feel dizzy after donating blood?',
    'my baby has a little diaper rash',
    'my blood sugar was 140 after dinner',
    'I forgot to take my metformin this morning',
    'I think I pulled a muscle in my back lifting boxes',
    'my eye is a bit red and itchy from allergies',
    'I have a mild sore throat and sniffles',
    "I bumped my knee and there's a bruise",
    'my mom worries about every mole, should she get them checked?',
    'is 5 hours of sleep enough?',
    'what should I do if my kid swallows a coin?',
    'how do I know if my chest pain is a heart attack?',
]


@pytest.mark.parametrize("text", RED_FLAGS)
def test_red_flags_in_other_words_escalate(text: str) -> None:
    assert TRIAGE.check([normalize(text)]) is not None


@pytest.mark.parametrize("text", NOT_RED_FLAGS)
def test_worried_but_safe_is_not_a_red_flag(text: str) -> None:
    hit = TRIAGE.check([normalize(text)])
    assert hit is None, hit.reason if hit else ""


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
