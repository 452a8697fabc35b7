"""Every refusal the API gives a bad request reads in Chinese: schemathesis sends each operation
of the OpenAPI document inputs that break its schema, and no message that comes back holds
English prose — only the identifiers the caller sent (field names, codes)."""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from api.app import create_app
from tests.e2e.conftest import Platform

#: Words a Chinese message may carry: names of things, not prose.
ALLOWED = {
    "JSON",
    "UUID",
    "ASCII",
    "Unicode",
    "USCC",
    "SHA",
    "PDF",
    "API",
    "KB",
    "MB",
    "ISO",
    "Cookie",
    "null",
}
ALLOWED |= {"true", "false", "Authorization", "Bearer", "Api", "Key", "gs"}


def english(message: str, identifiers: set[str]) -> list[str]:
    """Runs of Latin letters in `message` that are neither identifiers the request named nor
    allowed names."""
    text = re.sub(r"'[^']*'|“[^”]*”|\"[^\"]*\"", " ", message)  # quoted values the caller sent
    words = re.findall(r"[A-Za-z][A-Za-z_]+", text)
    return [w for w in words if w not in identifiers and w not in ALLOWED and not w.isupper()]


def identifiers_of(body: dict[str, Any], case: Any) -> set[str]:
    names: set[str] = set()
    for error in body.get("errors") or []:
        names |= {str(p) for p in error.get("loc", [])}
    for part in (case.query, case.path_parameters, case.headers):
        names |= set(part or {})
    if isinstance(case.body, dict):
        names |= set(case.body)
    names |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_.\[\]]*", " ".join(names)))
    return names | set(case.operation.path.replace("{", "/").replace("}", "/").split("/"))


def test_bad_inputs_get_chinese_messages_from_every_operation(platform: Platform) -> None:
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(platform.container, owns_container=False)
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    checked: list[tuple[str, str]] = []
    without_inputs: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            response = case.call()
            if response.status_code < 400 or "json" not in response.headers.get("content-type", [""])[0]:
                return
            body = response.json()
            if not isinstance(body, dict) or "message" not in body:
                return
            names = identifiers_of(body, case)
            messages = [body["message"]] + [e["message"] for e in body.get("errors") or []]
            for message in messages:
                assert re.search(r"[\u4e00-\u9fff]", message), message
                assert english(message, names) == [], (case.operation.label, message)
            checked.append((case.operation.label, body["code"]))

        try:
            check()
        except Unsatisfiable:  # nothing to break: no parameter and no body
            without_inputs.append(operation.label)
    # every operation with a schema to break was exercised (the others take nothing, or strings
    # of any form, which only the handler can refuse: their refusals are Chinese by `api/errors`)
    exercised = {label for label, _ in checked}
    assert {"GET /api/v1/entities", "GET /api/v1/records", "POST /api/v1/publications"} <= exercised
    assert "invalid_request" in {code for _, code in checked}
    assert len(without_inputs) < len(operations)


def test_the_english_check_sees_english() -> None:
    assert english("Input should be a valid integer", set()) != []
    assert english("请求参数有误：查询参数 page：应为整数", {"page"}) == []
    assert english("信封格式错误：occurred_on：应为有效日期", {"occurred_on"}) == []


def test_a_bad_query_parameter_answers_each_field_in_chinese(platform: Platform) -> None:
    response = platform.client.get("/api/v1/entities", params={"q": "x", "page": "abc", "size": "0"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["message"] == "请求参数有误：查询参数 page：应为整数；查询参数 size：应大于或等于 1"
    assert body["errors"] == [
        {"loc": ["query", "page"], "type": "int_parsing", "message": "应为整数"},
        {"loc": ["query", "size"], "type": "greater_than_equal", "message": "应大于或等于 1"},
    ]


def test_the_openapi_document_describes_the_chinese_422(platform: Platform) -> None:
    document = platform.client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
