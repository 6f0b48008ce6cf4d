"""The README's formats table names every format an adapter reads, so nobody has to read code to know."""

from __future__ import annotations

from conftest import REPO
from healthcoach.wearables import FORMATS


def test_every_format_is_in_the_readme_table() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("## Formats it reads", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    names = " ".join(r.split("|")[1] for r in rows).lower()
    wanted = ["fhir r4", "c-cda", "omop cdm", "manual", *(f.split("_")[0].replace("apple", "apple health")
                                                       for f in FORMATS)]
    assert all(w in names for w in wanted), [w for w in wanted if w not in names]
    assert all(r.count("|") == 4 and r.split("|")[3].strip() for r in rows)  # each says what it reads
