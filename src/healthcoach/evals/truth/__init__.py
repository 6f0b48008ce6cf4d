"""Ground truth for the record-QA suite, computed from raw FHIR JSON independently of the product."""
