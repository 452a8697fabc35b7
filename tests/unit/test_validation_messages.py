"""Validation messages are Chinese: every error type pydantic can raise has a Chinese template,
filled from the error's context; our own validators' Chinese messages are kept."""

from __future__ import annotations

import re
import typing
from datetime import date
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import core_schema

from domain.validation import FALLBACK, MESSAGES, chinese_message, describe_errors, location

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_pydantic_error_type_has_a_chinese_template() -> None:
    types = set(typing.get_args(core_schema.ErrorType))
    assert types, "pydantic_core.core_schema.ErrorType is no longer a Literal"
    assert sorted(types - set(MESSAGES)) == []
    assert all(CJK.search(template) for template in MESSAGES.values())


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(ge=1)
    flag: Literal["abnormal", "serious", "penalty"]
    name: str = Field(max_length=5)
    on: date
    mine: str = ""

    @field_validator("mine")
    @classmethod
    def _mine(cls, value: str) -> str:
        if value == "zh":
            raise ValueError("统一社会信用代码第18位校验码错误")
        if value == "en":
            raise ValueError("instant must be timezone-aware")
        return value


def errors(**data: object) -> list[dict[str, object]]:
    base: dict[str, object] = {"page": 1, "flag": "serious", "name": "a", "on": "2024-05-01"}
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate({**base, **data})
    return [dict(e) for e in caught.value.errors()]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"page": "abc"}, "应为整数"),
        ({"page": 0}, "应大于或等于 1"),
        ({"flag": "x"}, "应为以下取值之一：'abnormal'、'serious'、'penalty'"),
        ({"name": "abcdefg"}, "长度不能超过 5 个字符"),
        ({"on": "yesterday"}, "应为有效日期，格式为 年-月-日（如 2024-05-01）"),
        ({"extra": 1}, "不允许的字段"),
        ({"mine": "zh"}, "统一社会信用代码第18位校验码错误"),
        ({"mine": "en"}, FALLBACK),
    ],
)
def test_a_pydantic_error_reads_in_chinese(data: dict[str, object], message: str) -> None:
    (error,) = errors(**data)
    assert chinese_message(error) == message


def test_a_missing_field_and_the_locations() -> None:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate({})
    text = describe_errors(caught.value.errors())
    assert text.startswith("page：缺少必填项；flag：缺少必填项")
    assert location(("query", "page"), request=True) == "查询参数 page"
    assert (
        location(("body", "payload", "items", 2, "amount"), request=True) == "请求体 payload.items[2].amount"
    )
    assert location(("body",), request=True) == "请求体"
    assert location(()) == "（整体）"


def test_more_than_five_errors_are_counted() -> None:
    many = [{"type": "missing", "loc": (f"f{i}",)} for i in range(8)]
    assert describe_errors(many).endswith("；另有 3 处错误")
