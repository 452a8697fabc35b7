"""Schemathesis against the OpenAPI document: no input makes the API fail or break its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.e2e.conftest import Platform


@pytest.fixture(scope="module")
def api_schema(platform: Platform) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", platform.client.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate()
