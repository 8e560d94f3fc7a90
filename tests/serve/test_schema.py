"""Generated requests from the OpenAPI schema (schemathesis): no 5xx, and every answer conforms to the schema
(status codes, content types, bodies), over at least 1,000 requests, valid and invalid."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.serve.support import live_server

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 70, GenerationMode.NEGATIVE: 30}


@pytest.mark.slow
def test_generated_requests_find_no_server_error_and_no_schema_violation() -> None:
    with live_server(drive_ms=60_000) as live, requests.Session() as session:
        # /events streams forever: it has tests of its own.
        schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json").exclude(path="/events")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 14
        sent: dict[str, int] = {}
        for op in operations:
            for mode, examples in EXAMPLES.items():
                if mode is GenerationMode.NEGATIVE and not len(op.query) + len(op.path_parameters):
                    continue  # nothing to get wrong in a request without parameters

                @settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=op.as_strategy(generation_mode=mode))
                def call(case: schemathesis.Case) -> None:
                    case.call_and_validate(base_url=live.url, session=session, checks=CHECKS, timeout=30)
                    label = case.operation.label
                    sent[label] = sent.get(label, 0) + 1

                call()
        assert sum(sent.values()) >= 1000, sent
