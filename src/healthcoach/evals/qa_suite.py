"""The record-QA suite as data: concepts (code sets) and question templates, validated at load.

Layout (eval/suites/qa/):
  suite.yaml        version, today (the date relative windows are read against), concepts
  templates/*.yaml  version, templates: operation, concepts, window, unit, phrasings (source, text, history)

Every malformed entry stops the load with ConfigError("file:line: what is wrong").
"""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from healthcoach.errors import ConfigError
from healthcoach.settings import packaged_dir

# The time windows a template may use (truth/windows.py computes each one).
WINDOW_KINDS = ("ever", "current", "year", "month", "since", "between", "last_n_months", "this_year",
                "last_year", "two_years", "this_vs_last_year")

Source = Literal["writer-formal", "writer-lay", "writer-texting", "writer-clinician", "writer-followup"]
Operation = Literal["latest", "first", "min", "max", "count", "mean", "list", "change", "trend", "nth_previous",
                    "compare", "exists"]
OPERATIONS: tuple[str, ...] = Operation.__args__  # type: ignore[attr-defined]
TargetUnit = Literal["lb", "ft_in", "degF", "mmol/L"]
UNIT_SOURCES = {"lb": "kg", "ft_in": "cm", "degF": "Cel", "mmol/L": "mg/dL"}
CODE = re.compile(r"^(loinc|cvx|sct|rxnorm):[0-9A-Za-z.-]+$")
NUMERIC_OPS = {"min", "max", "mean", "change", "trend", "compare"}  # latest/first/nth: any concept (dates)
SCALAR_OPS = {"change", "trend"}  # one number per result
PLACEHOLDERS = {"year": ("year",), "month": ("month",), "since": ("date",), "between": ("date", "date2"),
                "last_n_months": ("n",), "two_years": ("year", "year2")}


class Concept(BaseModel):
    """A concept by code sets: what rows of which kind answer questions about it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["observation", "immunization", "condition", "procedure", "encounter", "medication", "allergy"]
    codes: list[str] = Field(default_factory=list, description="Any of these codes; empty: every row of the kind.")
    exclude_codes: list[str] = Field(default_factory=list)
    ambiguous_codes: list[str] = Field(default_factory=list, description="Codes that may or may not belong: a "
                                       "question whose answer changes with them is skipped.")
    classes: list[str] = Field(default_factory=list, description="Encounter.class codes (AMB, EMER, IMP).")
    components: list[str] = Field(default_factory=list, description="Component codes, in display order (BP).")
    value: Literal["quantity", "components", "text", "none"] = "none"
    unit: str | None = None
    decimals: int = Field(1, ge=0, le=3)
    names: dict[str, str] = Field(description="Words for {name}: 'default' and optionally per voice.")

    @field_validator("codes", "exclude_codes", "ambiguous_codes", "components")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not CODE.match(c)]
        if bad:
            raise ValueError(f"codes must look like loinc:4548-4 / cvx:140 / sct:... / rxnorm:... (got {bad})")
        return v

    @field_validator("names")
    @classmethod
    def _names(cls, v: dict[str, str]) -> dict[str, str]:
        if "default" not in v:
            raise ValueError("names needs a 'default'")
        return v

    def name_for(self, source: str) -> str:
        """The concept's word in a phrasing author's voice."""
        return self.names.get(source.removeprefix("writer-"), self.names["default"])


class Phrasing(BaseModel):
    """One way to ask, by one author persona; ``history`` = earlier user turns (oldest first)."""

    model_config = ConfigDict(extra="forbid")

    source: Source
    text: str = Field(min_length=2)
    history: list[str] = Field(default_factory=list)


class Template(BaseModel):
    """A question type: operation × concept(s) × window × unit, asked several ways."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    operation: Operation
    concepts: list[str] = Field(min_length=1)
    window: str = "ever"
    unit: TargetUnit | None = None
    baseline: Literal["first", "date", "previous"] | None = None
    nth: int | None = Field(None, ge=2, le=4)
    status: Literal["current", "any"] = "any"
    allow_empty: bool = False
    contrast: str | None = Field(None, description="latest/first: skip a person whose answer is the same as for "
                                 "this broader concept (the question would not tell the two apart).")
    per_person: int = Field(1, ge=1, le=10)
    phrasings: list[Phrasing] = Field(min_length=3)

    @field_validator("window")
    @classmethod
    def _window(cls, v: str) -> str:
        if v not in WINDOW_KINDS:
            raise ValueError(f"unknown window {v!r} (known: {', '.join(WINDOW_KINDS)})")
        return v


class SuiteHead(BaseModel):
    """suite.yaml: the version, the suite's today and the concepts."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1]
    today: date
    concepts: dict[str, Concept]


class TemplateFile(BaseModel):
    """One templates/*.yaml file."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1]
    templates: list[Template]


class Suite(BaseModel):
    """The whole suite: today, concepts, templates (with the file each came from)."""

    today: date
    concepts: dict[str, Concept]
    templates: list[Template]
    origin: dict[str, str] = Field(default_factory=dict, description="template id -> file:line")


def _line_map(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[(*path, k.value)] = k.start_mark.line + 1
            _line_map(v, (*path, k.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _line_map(v, (*path, i), out)


def _read(path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from exc
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _line_map(node, (), lines)
    return data, lines


def _where(path: Path, lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> str:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return f"{path}:{lines[loc[:n]]}"
    return str(path)


def _validate(model: type[BaseModel], path: Path) -> tuple[Any, dict[tuple[Any, ...], int]]:
    data, lines = _read(path)
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        raise ConfigError(f"{_where(path, lines, loc)}: {'.'.join(map(str, loc)) or 'file'}: {err['msg']}") from exc


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def _check_template(t: Template, concepts: dict[str, Concept]) -> tuple[tuple[Any, ...], str] | None:
    """Cross-field rules; returns (where in the template, the problem) or None."""
    for c in t.concepts:
        if c not in concepts:
            return ("concepts",), f"unknown concept {c!r}"
        spec = concepts[c]
        if t.operation in NUMERIC_OPS and spec.value not in ("quantity", "components"):
            return ("concepts",), f"operation {t.operation} needs a numeric concept ({c} has value {spec.value})"
        if t.operation in SCALAR_OPS and spec.value != "quantity":
            return ("concepts",), f"operation {t.operation} needs one number per result ({c} has {spec.value})"
        if t.unit and t.operation not in NUMERIC_OPS | {"latest", "first", "nth_previous"}:
            return ("unit",), f"operation {t.operation} states no value to convert"
        if t.unit and spec.unit != UNIT_SOURCES[t.unit]:
            return ("unit",), f"unit {t.unit} converts from {UNIT_SOURCES[t.unit]}, but {c} is in {spec.unit}"
    if t.contrast and (t.contrast not in concepts or t.operation not in ("latest", "first")):
        return ("contrast",), "contrast names a known concept, for latest or first only"
    if (t.baseline is None) != (t.operation != "change"):
        return ("operation",), "baseline (first|date|previous) is required for change and only for change"
    if (t.nth is None) != (t.operation != "nth_previous"):
        return ("operation",), "nth is required for nth_previous and only for nth_previous"
    pair = t.window in ("two_years", "this_vs_last_year")
    if pair != (t.operation == "compare"):
        return ("window",), "compare needs window two_years or this_vs_last_year (and only compare uses them)"
    allowed = {"name", *PLACEHOLDERS.get(t.window, ())} | ({"date"} if t.baseline == "date" else set())
    required = set(PLACEHOLDERS.get(t.window, ())) | ({"date"} if t.baseline == "date" else set())
    for i, p in enumerate(t.phrasings):
        used = _fields(p.text).union(*[_fields(h) for h in p.history]) if p.history else _fields(p.text)
        if used - allowed:
            return ("phrasings", i), f"unknown placeholder(s) {sorted(used - allowed)} (allowed: {sorted(allowed)})"
        if required - used:
            return ("phrasings", i), f"must mention {sorted(required - used)} (window {t.window})"
    return None


def suite_dir() -> Path:
    """eval/suites/qa in the checkout (or the installed package's copy)."""
    return packaged_dir("eval") / "suites" / "qa"


def load_suite(folder: Path) -> Suite:
    """Load and validate suite.yaml and templates/*.yaml under ``folder``."""
    head_path = folder / "suite.yaml"
    head, _ = _validate(SuiteHead, head_path)
    templates: list[Template] = []
    origin: dict[str, str] = {}
    files = sorted((folder / "templates").glob("*.yaml"))
    if not files:
        raise ConfigError(f"{folder / 'templates'}: no template files")
    for path in files:
        tf, lines = _validate(TemplateFile, path)
        for i, t in enumerate(tf.templates):
            where = _where(path, lines, ("templates", i))
            if t.id in origin:
                raise ConfigError(f"{where}: template id {t.id!r} already used at {origin[t.id]}")
            problem = _check_template(t, head.concepts)
            if problem:
                loc, message = problem
                at = _where(path, lines, ("templates", i, *loc))
                raise ConfigError(f"{at}: template {t.id}: {'.'.join(map(str, loc))}: {message}")
            origin[t.id] = where
            templates.append(t)
    return Suite(today=head.today, concepts=head.concepts, templates=templates, origin=origin)
