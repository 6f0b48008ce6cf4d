"""A bundled synthetic person (FHIR R4) so the demo and tests work on a fresh clone."""

from healthcoach.sample.generator import generate_person, write_person
from healthcoach.sample.truth import compute_truth

__all__ = ["compute_truth", "generate_person", "write_person"]
