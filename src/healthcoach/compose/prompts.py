"""Prompts as data: prompts/*.yaml, validated at load so a broken prompt stops startup.

Each file declares its variables; a template that uses an undeclared variable, or declares one it
never uses, is a ConfigError naming the file and the variable. Templates use ``{name}`` fields
(``{{`` and ``}}`` for literal braces); values are substituted once and never re-parsed, so braces
inside record text cannot reach the template engine.
"""

from __future__ import annotations

import string
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from healthcoach.errors import ConfigError

REQUIRED = ("system", "answer", "summary", "rephrase", "followup")


class PromptSpec(BaseModel):
    """One prompt file. Unknown keys are errors (a typo must not silently drop an instruction)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, description="Bumped whenever the wording changes (recorded in evals).")
    description: str = Field(min_length=1, description="What the prompt is for and when it is used.")
    variables: list[str] = Field(default_factory=list, description="Every {field} the template uses.")
    template: str | None = Field(None, description="Text with {variable} fields.")
    text: str | None = Field(None, description="Fixed text without variables (system prompt).")

    @model_validator(mode="after")
    def _one_body(self) -> PromptSpec:
        if (self.template is None) == (self.text is None):
            raise ValueError("exactly one of 'template' or 'text' is required")
        if self.text is not None and self.variables:
            raise ValueError("'text' takes no variables; use 'template'")
        return self

    @property
    def body(self) -> str:
        """The template, or the fixed text."""
        return self.template if self.template is not None else (self.text or "")

    def render(self, **values: str) -> str:
        """The prompt with its variables filled; every declared variable must be given, no others."""
        if self.text is not None:
            if values:
                raise ValueError(f"prompt takes no variables, got {sorted(values)}")
            return self.text
        missing, extra = set(self.variables) - set(values), set(values) - set(self.variables)
        if missing or extra:
            raise ValueError(f"prompt variables: missing {sorted(missing)}, unexpected {sorted(extra)}")
        return (self.template or "").format(**values)


def template_fields(template: str) -> set[str]:
    """The {field} names a template uses; attribute/index access and format specs are refused."""
    fields: set[str] = set()
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conv:
            raise ValueError(f"field {{{name}}} must be a plain name (no attributes, indexes or formats)")
        fields.add(name)
    return fields


class Prompts:
    """The validated prompt set: system, answer, summary, rephrase, followup."""

    def __init__(self, specs: dict[str, PromptSpec]) -> None:
        missing = [name for name in REQUIRED if name not in specs]
        if missing:
            raise ConfigError(f"prompts: missing {', '.join(f'{m}.yaml' for m in missing)}")
        self.specs = specs

    def __getitem__(self, name: str) -> PromptSpec:
        return self.specs[name]

    def versions(self) -> dict[str, int]:
        """Prompt name → version (for eval reports)."""
        return {name: spec.version for name, spec in sorted(self.specs.items())}

    @classmethod
    def load(cls, folder: Path) -> Prompts:
        """Read and validate every *.yaml in folder (ConfigError naming the file and the problem)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError(f"prompts: folder {folder} does not exist")
        return cls({path.stem: load_prompt(path) for path in sorted(folder.glob("*.yaml"))})


def load_prompt(path: Path) -> PromptSpec:
    """One prompt file, validated: schema, then declared variables == used variables."""
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{name}: cannot read: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: expected a mapping with version, description, variables, template")
    try:
        spec = PromptSpec.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise ConfigError(f"{name}: invalid field '{where}': {first['msg']}") from e
    try:
        used = template_fields(spec.body) if spec.template is not None else set()
    except ValueError as e:
        raise ConfigError(f"{name}: {e}") from e
    declared = set(spec.variables)
    if len(declared) != len(spec.variables):
        raise ConfigError(f"{name}: a variable is declared twice")
    for var in sorted(used - declared):
        raise ConfigError(f"{name}: template uses undeclared variable '{var}'")
    for var in sorted(declared - used):
        raise ConfigError(f"{name}: declared variable '{var}' is not used in the template")
    return spec
