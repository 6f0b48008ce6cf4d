"""The README's formats table names every format the source registry reads (and manual entries), so
nobody has to read code to know what gets in."""

from __future__ import annotations

from conftest import REPO
from healthcoach.ingest.sources import SOURCES

# How the README names a registry row when it is not simply the row name with spaces.
README_NAME = {"fhir": "fhir r4", "ccda": "c-cda", "omop": "omop cdm", "fitbit_takeout": "fitbit",
               "fitbit_api": "fitbit"}


def test_every_registry_format_is_in_the_readme_table() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("## Formats it reads", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    names = " ".join(r.split("|")[1] for r in rows).lower()
    wanted = [README_NAME.get(s.name, s.name.replace("_", " ")) for s in SOURCES] + ["manual"]
    assert all(w in names for w in wanted), [w for w in wanted if w not in names]
    assert all(r.count("|") == 4 and r.split("|")[3].strip() for r in rows)  # each says what it reads
