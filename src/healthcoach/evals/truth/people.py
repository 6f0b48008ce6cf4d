"""The eval population as raw FHIR: every shared Synthea bundle and the bundled sample person."""

from __future__ import annotations

from pathlib import Path

from healthcoach.evals.truth.fhir_raw import RawPerson, load_bundle

SAMPLE_KEY = "sample"


def shared_bundles(shared_data: Path) -> list[Path]:
    """The FHIR bundle files under <shared>/data/fhir (facts.json excluded), sorted."""
    return sorted(p for p in (shared_data / "fhir").glob("*/*.json"))


def load_people(shared_data: Path | None, sample_bundle: Path | None, sample_key: str = SAMPLE_KEY
                ) -> list[RawPerson]:
    """Raw people: the sample person (key ``sample_key``) first, then each shared bundle ('p_' + Patient.id[:8])."""
    out = [load_bundle(sample_bundle, sample_key)] if sample_bundle is not None else []
    if shared_data is not None:
        out += [load_bundle(p) for p in shared_bundles(shared_data)]
    return out
