"""Load and validate the red-flag triage folder (guardrails/triage/*.yaml).

One file per presentation (chest pain, stroke, infant fever, ...) holds its discriminators (regexes
over normalised text, written as symptom combinations), plain phrases, number thresholds, the voices
it covers, its response key, Spanish and French lexicons, its public consumer sources, and examples
that must escalate. ``_shared.yaml`` holds the vocabulary every file may use as ``{term}``, negation
cues, framing that marks a general question, voice cues and the high-risk drug list.

Every file is validated by a model that forbids unknown keys and every regex is compiled at load, so
a broken triage file stops start-up with a ConfigError naming the file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from healthcoach.datafile import read_yaml
from healthcoach.errors import ConfigError
from healthcoach.guardrails.numbers import Measure

Voice = Literal["self", "parent", "bystander", "clinician"]
Lang = Literal["es", "fr"]
TERM = re.compile(r"\{([a-z][a-z0-9_]*)\}")
MIN_FILES = 25


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A public consumer page the red flags come from."""

    publisher: str = Field(min_length=2)
    title: str = Field(min_length=3)
    url: str = Field(pattern=r"^https://[^\s]+$")


class Range(_Strict):
    """Bounds on one measure; every given bound must hold."""

    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None

    @model_validator(mode="after")
    def _some(self) -> Range:
        if all(v is None for v in (self.lt, self.le, self.gt, self.ge)):
            raise ValueError("a range needs at least one of lt, le, gt, ge")
        return self

    def holds(self, v: float) -> bool:
        """Whether v is inside every bound."""
        return ((self.lt is None or v < self.lt) and (self.le is None or v <= self.le)
                and (self.gt is None or v > self.gt) and (self.ge is None or v >= self.ge))


class Discriminator(_Strict):
    """A symptom combination: every regex in ``all`` matches somewhere (not negated), none in ``unless``."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    all: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)
    response_key: str | None = None
    # Fires even when the message reads as a general question ("what do I do, he's not breathing").
    any_framing: bool = False


class Threshold(_Strict):
    """Typed values read from the message (numbers.py) that escalate, with optional symptom context."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    when: dict[Measure, Range] = Field(min_length=1)
    with_any: list[str] = Field(default_factory=list)  # at least one must match when given
    high_risk_drug: bool = False  # a drug on _shared.yaml's high_risk_drugs list is named
    child: bool = False  # the message is about a child
    response_key: str | None = None


class Lexicon(_Strict):
    """Red flags in another language, matched on accent-folded lowercase text."""

    phrases: list[str] = Field(default_factory=list)
    discriminators: list[Discriminator] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> Lexicon:
        if not self.phrases and not self.discriminators:
            raise ValueError("a language lexicon needs phrases or discriminators")
        return self


class Example(_Strict):
    """A message that must escalate through this file, with its voice and language."""

    text: str = Field(min_length=3)
    voice: Voice
    language: Literal["en", "es", "fr"] = "en"


class TriageFile(_Strict):
    """One presentation."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=3)
    category: Literal["emergency", "self_harm"] = "emergency"
    response_key: str
    clinician_response_key: str = "rapid_response"
    voices: list[Voice] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    phrases: list[str] = Field(default_factory=list)
    discriminators: list[Discriminator] = Field(default_factory=list)
    thresholds: list[Threshold] = Field(default_factory=list)
    languages: dict[Lang, Lexicon]
    examples: list[Example] = Field(min_length=4)
    near_misses: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> TriageFile:
        if not (self.phrases or self.discriminators or self.thresholds):
            raise ValueError("a triage file needs phrases, discriminators or thresholds")
        missing = [lang for lang in ("es", "fr") if lang not in self.languages]
        if missing:
            raise ValueError(f"languages: lexicon missing for {', '.join(missing)}")
        covered = {e.voice for e in self.examples}
        lacking = [v for v in self.voices if v not in covered]
        if lacking:
            raise ValueError(f"examples: no example in the voice(s) {', '.join(lacking)} that the file covers")
        langs = {e.language for e in self.examples}
        if not {"es", "fr"} <= langs:
            raise ValueError("examples: needs at least one Spanish (es) and one French (fr) example")
        return self


class Negation(_Strict):
    """A match is negated when a cue precedes it in the same sentence with no breaker in between."""

    cues: str
    breakers: str
    window: int = Field(60, ge=10, le=200)


class VoiceCues(_Strict):
    """Regexes that say who the message is about; the first voice that matches wins, in this order."""

    clinician: list[str] = Field(min_length=1)
    parent: list[str] = Field(min_length=1)
    bystander: list[str] = Field(min_length=1)


class Shared(_Strict):
    """_shared.yaml: vocabulary and cues every triage file uses."""

    terms: dict[str, str]
    negation: Negation
    general_question: list[str] = Field(min_length=1)
    study_framing: list[str] = Field(default_factory=list)  # an essay or a class: general even with "I"
    personal: list[str] = Field(min_length=1)
    voices: VoiceCues
    child: list[str] = Field(min_length=1)
    confusion: list[str] = Field(min_length=1)
    high_risk_drugs: list[str] = Field(min_length=5)
    response_priority: list[str] = Field(min_length=1)
    # Languages detected besides English (ISO 639-1); each needs a `language_<code>` response: the
    # emergency numbers first, then a line in that language saying the coach answers in English.
    detect_languages: list[str] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _names(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if not re.fullmatch(r"[a-z][a-z0-9_]*", k)]
        if bad:
            raise ValueError(f"term names must be lowercase words: {bad}")
        return v


class TriagePolicy(_Strict):
    """The validated triage folder."""

    shared: Shared
    files: list[TriageFile]


def expand(regex: str, terms: dict[str, str], where: str) -> str:
    """Replace {term} by its shared definition (terms may use other terms) and check it compiles."""
    seen = 0
    while (m := TERM.search(regex)) is not None:
        name = m.group(1)
        if name not in terms:
            raise ConfigError(f"{where}: unknown term {{{name}}} (define it in _shared.yaml terms)")
        regex = regex[:m.start()] + f"(?:{terms[name]})" + regex[m.end():]
        seen += 1
        if seen > 500:
            raise ConfigError(f"{where}: terms refer to each other in a loop")
    try:
        re.compile(regex)
    except re.error as exc:
        raise ConfigError(f"{where}: invalid regex: {exc}") from exc
    return regex


def _read(path: Path) -> object:
    return read_yaml(path)


def _validate(model: type[_Strict], path: Path, data: object) -> _Strict:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"triage/{path.name}: invalid field {field!r}: {first['msg']} ({path})") from exc


def _regexes(f: TriageFile) -> list[tuple[str, str]]:
    """(field path, regex) for every regex in a file, to compile-check at load."""
    out: list[tuple[str, str]] = []
    groups: list[tuple[str, list[Discriminator]]] = [("discriminators", f.discriminators)]
    groups += [(f"languages.{lang}.discriminators", lex.discriminators) for lang, lex in f.languages.items()]
    for prefix, discs in groups:
        for i, d in enumerate(discs):
            out += [(f"{prefix}.{i}.all.{j}", r) for j, r in enumerate(d.all)]
            out += [(f"{prefix}.{i}.unless.{j}", r) for j, r in enumerate(d.unless)]
    for i, t in enumerate(f.thresholds):
        out += [(f"thresholds.{i}.with_any.{j}", r) for j, r in enumerate(t.with_any)]
    return out


def load_triage(policy_dir: Path, responses: dict[str, str]) -> TriagePolicy:
    """Read and validate guardrails/triage/; raise ConfigError naming the file and field."""
    folder = Path(policy_dir) / "triage"
    if not folder.is_dir():
        raise ConfigError(f"guardrails triage folder missing: {folder}")
    shared_path = folder / "_shared.yaml"
    if not shared_path.is_file():
        raise ConfigError(f"triage/_shared.yaml missing: {shared_path}")
    shared = _validate(Shared, shared_path, _read(shared_path))
    assert isinstance(shared, Shared)
    for name, rx in shared.terms.items():
        expand(rx, shared.terms, f"triage/_shared.yaml: invalid field 'terms.{name}'")
    lists = {"general_question": shared.general_question, "study_framing": shared.study_framing,
             "personal": shared.personal, "child": shared.child,
             "confusion": shared.confusion, "voices.clinician": shared.voices.clinician,
             "voices.parent": shared.voices.parent, "voices.bystander": shared.voices.bystander}
    for field, regexes in lists.items():
        for i, rx in enumerate(regexes):
            expand(rx, shared.terms, f"triage/_shared.yaml: invalid field '{field}.{i}'")
    for code in shared.detect_languages:
        if f"language_{code}" not in responses:
            raise ConfigError(f"triage/_shared.yaml: invalid field 'detect_languages': no response "
                              f"'language_{code}' in responses.yaml")
    files: list[TriageFile] = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        f = _validate(TriageFile, path, _read(path))
        assert isinstance(f, TriageFile)
        if f.id != path.stem:
            raise ConfigError(f"triage/{path.name}: invalid field 'id': {f.id!r} does not match the file name")
        keys = [("response_key", f.response_key), ("clinician_response_key", f.clinician_response_key)]
        keys += [(f"discriminators.{i}.response_key", d.response_key) for i, d in enumerate(f.discriminators)
                 if d.response_key]
        keys += [(f"thresholds.{i}.response_key", t.response_key) for i, t in enumerate(f.thresholds)
                 if t.response_key]
        for field, key in keys:
            if key not in responses:
                raise ConfigError(f"triage/{path.name}: invalid field {field!r}: {key!r} is not in responses.yaml")
        for field, rx in _regexes(f):
            expand(rx, shared.terms, f"triage/{path.name}: invalid field {field!r}")
        files.append(f)
    if len(files) < MIN_FILES:
        raise ConfigError(f"triage/: {len(files)} presentation files; at least {MIN_FILES} are required")
    return TriagePolicy(shared=shared, files=files)
