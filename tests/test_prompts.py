"""prompts/ is data validated at load: unknown keys, undeclared or unused variables stop startup with an
error naming the file and the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthcoach.compose.prompts import REQUIRED, Prompts, load_prompt
from healthcoach.errors import ConfigError
from healthcoach.settings import Settings

GOOD = "version: 1\ndescription: d\nvariables: [question]\ntemplate: 'Q: {question}'\n"


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_repo_prompts_load_and_declare_what_they_use() -> None:
    prompts = Prompts.load(Settings().prompts_dir)
    assert set(REQUIRED) <= set(prompts.specs)
    assert all(v >= 1 for v in prompts.versions().values())
    assert prompts["system"].text and not prompts["system"].variables
    assert set(prompts["answer"].variables) == {"question", "history", "evidence_table", "facts"}
    # the record-free prompt must not be able to carry record content
    assert set(prompts["rephrase"].variables) == {"question", "general_text"}
    for name in ("answer", "summary", "followup"):
        body = prompts[name].body
        assert body.index("<records>") < body.index("{evidence_table}") < body.index("{facts}") < body.index("</records>")


def test_prompts_readme_documents_every_file() -> None:
    readme = (Settings().prompts_dir / "README.md").read_text()
    for name in REQUIRED:
        assert f"{name}.yaml" in readme


@pytest.mark.parametrize(("body", "expected"), [
    (GOOD + "temperature: 0.2\n", "bad.yaml: invalid field 'temperature'"),
    ("version: 1\ndescription: d\nvariables: [question]\ntemplate: '{question} {evidence}'\n",
     "bad.yaml: template uses undeclared variable 'evidence'"),
    ("version: 1\ndescription: d\nvariables: [question, history]\ntemplate: '{question}'\n",
     "bad.yaml: declared variable 'history' is not used"),
    ("version: 1\ndescription: d\nvariables: [q]\ntemplate: '{q.__class__}'\n", "must be a plain name"),
    ("version: 1\ndescription: d\nvariables: [q]\ntemplate: '{q:>9}'\n", "must be a plain name"),
    ("version: 1\ndescription: d\ntemplate: 'x'\ntext: 'y'\n", "exactly one of 'template' or 'text'"),
    ("description: d\ntemplate: 'x'\n", "bad.yaml: invalid field 'version'"),
    ("- just\n- a list\n", "bad.yaml: expected a mapping"),
    ("version: 1\ndescription: d\ntemplate: '{unclosed'\n", "bad.yaml"),
])
def test_invalid_prompt_is_a_config_error_naming_file_and_field(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(".", r"\.")):
        load_prompt(write(tmp_path, "bad", body))


def test_missing_required_prompt_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "system", "version: 1\ndescription: d\ntext: rules\n")
    with pytest.raises(ConfigError, match=r"missing answer\.yaml"):
        Prompts.load(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        Prompts.load(tmp_path / "nope")


def test_render_checks_values_and_never_reparses_them(tmp_path: Path) -> None:
    spec = load_prompt(write(tmp_path, "p", GOOD))
    assert spec.render(question="what is {facts}?") == "Q: what is {facts}?"
    with pytest.raises(ValueError, match="missing"):
        spec.render()
    with pytest.raises(ValueError, match="unexpected"):
        spec.render(question="q", extra="x")


def test_literal_braces_are_escaped_not_variables(tmp_path: Path) -> None:
    spec = load_prompt(write(tmp_path, "p", "version: 1\ndescription: d\nvariables: [q]\ntemplate: '{{json}} {q}'\n"))
    assert spec.render(q="x") == "{json} x"
