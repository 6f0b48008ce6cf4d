"""The 15 shared Synthea patients, ingested once per test session (one user per patient)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_facts(shared: Path) -> list[dict[str, Any]]:
    data = json.loads((shared / "data" / "fhir" / "facts.json").read_text())
    return list(data["patients"])


def user_for(patient: dict[str, Any]) -> str:
    return "p_" + str(patient["patient_id"])[:8]
