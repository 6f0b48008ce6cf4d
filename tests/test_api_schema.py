"""schemathesis against the OpenAPI document: no server errors, responses conform to the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from healthcoach.api.app import create_app
from healthcoach.api.auth import create_token
from healthcoach.api.testing import sample_server
from healthcoach.store.embeddings import Embedder

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance, checks.ignored_auth]


@pytest.fixture(scope="module")
def fuzz(embedder: Embedder) -> tuple[schemathesis.BaseSchema, str]:
    server = sample_server(embedder)
    token = create_token(server.bundle.stores.records, "fuzz")  # its own user: fuzzed consent changes stay there
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(server.settings, server.bundle, ui=False))
    return schema, token


def test_api_conforms_to_its_schema(fuzz: tuple[schemathesis.BaseSchema, str]) -> None:
    """Every operation, a few generated cases each (schemathesis's pytest plugin predates pytest 9, so the
    operations are driven with hypothesis directly)."""
    schema, token = fuzz
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        if (operation.method.upper(), operation.path) == ("DELETE", "/v1/me/tokens"):
            continue  # it revokes the token every other case signs with (tests/test_web_sessions.py covers it)

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        run()
