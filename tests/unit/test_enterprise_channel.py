"""The enterprise channel: an enterprise's own filings come only through its account — signed by
the platform for that very USCC — never with a department key, never for another enterprise."""

from __future__ import annotations

import json

import pytest

from domain.registry import Registry
from domain.signatures import PLATFORM, Signed
from tests.builders import annual_report_payload, envelope, make_registry, registered, uscc_for

USCC = uscc_for(41)
OTHER = uscc_for(42)


@pytest.fixture
def registry() -> Registry:
    r = make_registry()
    r.process([registered(uscc=USCC), registered(uscc=OTHER)])
    return r


def _file(registry: Registry, signature: Signed, uscc: str = USCC) -> tuple[str, str | None]:
    message = json.dumps(
        envelope("annual_report.submitted", annual_report_payload(2025), uscc=uscc, occurred_on="2026-05-01")
    ).encode()
    outcome = registry.process([message], signatures=[signature])[0]
    return outcome.status, outcome.code


@pytest.mark.parametrize(
    "principal",
    [f"enterprise:{USCC}", f"enterprise:{USCC}/user:wang", "job:load"],
)
def test_the_platform_files_for_the_enterprise_itself_or_as_a_job(registry: Registry, principal: str) -> None:
    assert _file(registry, Signed(PLATFORM, "sk_platform", principal)) == ("applied", None)


@pytest.mark.parametrize(
    "signature",
    [
        Signed(PLATFORM, "sk_platform", f"enterprise:{OTHER}"),  # one enterprise for another
        Signed(PLATFORM, "sk_platform", f"enterprise:{USCC}x"),
        Signed(PLATFORM, "sk_platform", "department:TJ-AMR/key:ab12cd34"),  # the gateway
        Signed(PLATFORM, "sk_platform", None),
        Signed("ENTERPRISE", "sk_old_shared", None),  # the old shared department key
    ],
)
def test_anything_else_is_a_bad_signature(registry: Registry, signature: Signed) -> None:
    assert _file(registry, signature) == ("rejected", "bad_signature")
    assert str(2025) not in registry.get_entity(USCC).annual_reports
