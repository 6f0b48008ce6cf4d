"""The question suite's files are validated at load: a mistake names the file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from healthcoach.errors import ConfigError
from healthcoach.evals.qa_suite import OPERATIONS, load_suite, suite_dir

SOURCES = {"writer-formal", "writer-lay", "writer-texting", "writer-clinician", "writer-followup"}


def test_the_shipped_suite_loads_with_every_operation_and_author() -> None:
    suite = load_suite(suite_dir())
    ops = {t.operation for t in suite.templates}
    assert ops == set(OPERATIONS)
    sources = {p.source for t in suite.templates for p in t.phrasings}
    assert sources == SOURCES
    assert all(len(t.phrasings) >= 3 for t in suite.templates)
    assert any(p.history for t in suite.templates for p in t.phrasings), "follow-ups in a conversation"
    assert {t.unit for t in suite.templates} >= {"lb", "ft_in", "degF", "mmol/L"}


@pytest.fixture
def suite_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "qa"
    shutil.copytree(suite_dir(), dest)
    return dest


def _template(folder: Path, body: str) -> Path:
    path = folder / "templates" / "zz_bad.yaml"
    path.write_text("version: 1\ntemplates:\n" + body, encoding="utf-8")
    return path


GOOD = """  - id: zz-latest
    operation: latest
    concepts: [a1c]
    phrasings:
      - {source: writer-formal, text: "What is my latest {name}?"}
      - {source: writer-lay, text: "my last {name}?"}
      - {source: writer-texting, text: "{name}??"}
"""


def test_a_valid_extra_template_loads(suite_copy: Path) -> None:
    _template(suite_copy, GOOD)
    assert any(t.id == "zz-latest" for t in load_suite(suite_copy).templates)


@pytest.mark.parametrize(("body", "line", "words"), [
    (GOOD.replace("    concepts: [a1c]\n", "    concepts: [a1c]\n    colour: red\n"), 6, "Extra inputs"),
    (GOOD.replace("[a1c]", "[unobtainium]"), 5, "unknown concept 'unobtainium'"),
    (GOOD.replace("operation: latest", "operation: guess"), 4, "operation"),
    (GOOD.replace("source: writer-lay", "source: me"), 8, "source"),
    (GOOD.replace("    concepts: [a1c]\n", "    concepts: [a1c]\n    window: year\n"), 8, "must mention ['year']"),
    (GOOD.replace("{name}??", "{name} in {year}??"), 9, "unknown placeholder(s) ['year']"),
    (GOOD.replace("operation: latest", "operation: max").replace("[a1c]", "[flu_shot]"), 5, "numeric concept"),
    (GOOD.replace("operation: latest", "operation: change"), 4, "baseline"),
    (GOOD.replace("    concepts: [a1c]\n", "    concepts: [a1c]\n    unit: lb\n"), 6, "converts from kg"),
    (GOOD + GOOD, 10, "already used"),
])
def test_a_malformed_template_names_file_line_and_problem(suite_copy: Path, body: str, line: int,
                                                          words: str) -> None:
    path = _template(suite_copy, body)
    with pytest.raises(ConfigError) as err:
        load_suite(suite_copy)
    assert f"{path}:{line}:" in str(err.value)
    assert words in str(err.value)


def test_bad_yaml_and_bad_codes_are_reported_with_their_line(suite_copy: Path) -> None:
    path = _template(suite_copy, GOOD + "  - id: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: invalid YAML"):
        load_suite(suite_copy)
    path.unlink()
    head = suite_copy / "suite.yaml"
    head.write_text(head.read_text().replace("loinc:4548-4", "LOINC 4548-4"))
    with pytest.raises(ConfigError, match=rf"{head}:\d+: concepts.a1c.codes: .*loinc:4548-4"):
        load_suite(suite_copy)
