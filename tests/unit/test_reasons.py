"""docs/EVENTS.md lists every reason code of the domain, generated from its source
(infra/reasons.py): the committed table is current, nothing the domain defines or gives at run
time is missing, and the reader finds codes in every form the domain writes them."""

from __future__ import annotations

import importlib
import pkgutil
import textwrap
from pathlib import Path

import pytest

import domain
from domain import publications as pub
from infra.reasons import EVENTS_MD, catalogue, render, rendered
from tests.builders import envelope, make_registry, penalty_payload, registered, uscc_for


def test_the_reason_codes_in_docs_events_md_are_current() -> None:
    assert EVENTS_MD.read_text(encoding="utf-8") == rendered(), "run `make schemas` to regenerate"


def test_every_reason_constant_of_the_domain_is_listed() -> None:
    constants = {}
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        for name, value in vars(importlib.import_module(module.name)).items():
            if name.startswith("REASON_") and isinstance(value, str):
                constants[name] = value
    assert constants  # the domain has some
    assert set(constants.values()) <= {c.code for c in catalogue()}


def test_the_codes_rejections_carry_at_run_time_are_listed() -> None:
    registry = make_registry()
    uscc = uscc_for(501)
    listed = {c.code for c in catalogue()}
    outcomes = [
        registry.apply_publication(b'{"kind": '),
        registry.apply_publication(envelope("penalty.forgiven", {}, uscc=uscc)),
        registry.apply_publication(envelope("penalty.imposed", penalty_payload(), uscc=uscc[:-1] + "0")),
        registry.apply_publication(envelope("penalty.imposed", penalty_payload(severity="x"), uscc=uscc)),
        registry.apply_publication(registered(uscc=uscc)),
        registry.apply_publication(registered(uscc=uscc)),
        registry.apply_publication(envelope("penalty.revoked", {"decision_no": "无此文号"}, uscc=uscc)),
    ]
    codes = [o.code for o in outcomes if o.status == "rejected"]
    assert len(codes) == 6, [o.as_dict() for o in outcomes]
    assert set(codes) <= listed, set(codes) - listed


def test_the_table_sits_between_markers_that_must_be_there() -> None:
    with pytest.raises(ValueError, match="markers"):
        render("# Event catalogue\n")


def test_the_reader_finds_codes_in_every_form_the_domain_writes_them(tmp_path: Path) -> None:
    package = tmp_path / "domain"
    package.mkdir()
    (package / "errors.py").write_text(
        textwrap.dedent(
            """
            class DomainError(Exception):
                code = "domain_error"

                def __init__(self, message, *, code=None, **detail):
                    super().__init__(message)

            class InvariantViolated(DomainError):
                code = "invariant_violated"

            class Invalid(DomainError):
                code = "invalid_thing"

            class Deeper(Invalid):
                pass

            class NotFound(DomainError):
                code = "not_found"

                def __init__(self, key):
                    super().__init__(f"找不到 {key}", key=key)

            class Unrelated(Exception):
                code = "not_a_domain_error"
            """
        ),
        encoding="utf-8",
    )
    (package / "intake.py").write_text(
        textwrap.dedent(
            """
            REASON_EMPTY = "empty"
            REASON_NEVER_GIVEN = "never_given"

            def note(x):
                return f"备注 {x}"

            def _fail(message, position=None):
                return Invalid(message, position=position)

            RULES = [Rule(code="NOT-A-REASON")]

            def intake(raw):
                if not raw:
                    return Outcome("rejected", code=REASON_EMPTY, message="空消息")
                text = note(raw)
                try:
                    parse(raw)
                except Invalid as err:
                    return Outcome("rejected", code=pub.REASON_EMPTY, message=err.message)
                raise Unrelated("不是领域错误")
                return Outcome("rejected", code=REASON_EMPTY, message=text)

            def check(x):
                if x:
                    raise _fail(f"第{x}位错误", x)
                raise NotFound(x)

            class Entity:
                def act(self):
                    raise InvariantViolated("不能办理", code="cannot_act")

                def deeper(self):
                    raise Deeper("更深")
            """
        ),
        encoding="utf-8",
    )
    found = {c.code: c for c in catalogue(package)}
    assert list(found) == [
        "empty",
        "never_given",
        "cannot_act",
        "invalid_thing",
        "not_found",
    ]
    assert found["empty"].constant == "domain/intake.py: REASON_EMPTY"
    caught = "(the message of the Invalid it caught: `invalid_thing`)"
    assert found["empty"].messages == ["空消息", caught, "备注 {x}"]
    assert {s.where for s in found["empty"].sites} == {"domain/intake.py: intake"}
    assert found["never_given"].sites == []
    assert found["cannot_act"].messages == ["不能办理"]
    assert [s.raised_as for s in found["cannot_act"].sites] == ["InvariantViolated"]
    assert found["invalid_thing"].messages == ["第{x}位错误", "更深"]  # not `message` of _fail itself
    assert found["not_found"].messages == ["找不到 {key}"]
    assert pub.REASON_MALFORMED in {c.code for c in catalogue()}
