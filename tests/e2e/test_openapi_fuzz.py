"""Schemathesis against the OpenAPI document: no input makes the API fail or break its schema.

The positive-data check is left out: a USCC's check characters cannot be expressed in JSON
Schema, so a schema-valid code may rightly be answered 422 `invalid_uscc`.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from tests.e2e.conftest import Platform


def test_every_operation_conforms_to_the_openapi_document(platform: Platform) -> None:
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(platform.container, owns_container=False)
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
