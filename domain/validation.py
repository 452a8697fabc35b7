"""Validation errors in Chinese: one template per pydantic error type.

pydantic writes its messages in English ("Field required", "Input should be a valid integer").
Everything the platform tells a caller is Chinese, so each error type pydantic can raise has a
Chinese template here, filled from the error's context (`ge`, `max_length`, `expected`…);
`tests/unit/test_validation_messages.py` fails when a pydantic upgrade adds a type without one.
A `ValueError` raised by our own validators carries its own (Chinese) text, which is kept.

Field names stay as they are written in the schema (`occurred_on`, `payload.fine_amount`): they
are identifiers the caller sends, not prose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MESSAGES", "chinese_message", "describe_errors", "location"]

_DATE = "应为有效日期，格式为 年-月-日（如 2024-05-01）"
_DATETIME = "应为有效的日期时间（ISO 8601，如 2024-05-01T08:30:00+08:00）"
_TIME = "应为有效时间（如 08:30:00）"

#: pydantic error type → Chinese template (`str.format` fields from the error's context).
MESSAGES: dict[str, str] = {
    "no_such_attribute": "对象没有属性 {attribute}",
    "json_invalid": "不是有效的 JSON",
    "json_type": "JSON 内容应为文本或字节串",
    "needs_python_object": "无法从 JSON 取得该值",
    "recursion_loop": "数据存在循环引用",
    "recursion_depth_exceeded": "数据嵌套层级过深",
    "missing": "缺少必填项",
    "frozen_field": "该字段不可修改",
    "frozen_instance": "该对象不可修改",
    "extra_forbidden": "不允许的字段",
    "invalid_key": "键应为文本",
    "get_attribute_error": "读取属性时出错",
    "model_type": "应为对象（JSON 中的 {…}）",
    "model_attributes_type": "应为对象（JSON 中的 {…}）",
    "dataclass_type": "应为对象（JSON 中的 {…}）",
    "dataclass_exact_type": "应为对象（JSON 中的 {…}）",
    "named_tuple_type": "应为数组或对象",
    "default_factory_not_called": "因其他字段有误，无法生成默认值",
    "none_required": "应为空值（null）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "multiple_of": "应为 {multiple_of} 的整数倍",
    "finite_number": "应为有限数值",
    "too_short": "至少应有 {min_length} 项",
    "too_long": "最多只能有 {max_length} 项",
    "iterable_type": "应为数组",
    "iteration_error": "读取数组时出错",
    "string_type": "应为文本",
    "string_unicode": "应为有效的 Unicode 文本",
    "string_too_short": "长度至少为 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符合要求（应匹配正则表达式 {pattern}）",
    "string_not_ascii": "只能包含 ASCII 字符",
    "enum": "应为以下取值之一：{expected}",
    "dict_type": "应为对象（JSON 中的 {…}）",
    "frozen_dict_type": "应为对象（JSON 中的 {…}）",
    "ordered_dict_type": "应为对象（JSON 中的 {…}）",
    "counter_type": "应为对象（JSON 中的 {…}）",
    "mapping_type": "应为对象（JSON 中的 {…}）",
    "list_type": "应为数组",
    "deque_type": "应为数组",
    "tuple_type": "应为数组",
    "set_type": "应为不含重复项的数组",
    "set_item_not_hashable": "数组中的项不能是对象或数组",
    "bool_type": "应为布尔值（true 或 false）",
    "bool_parsing": "应为布尔值（true 或 false）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_parsing_size": "整数过大",
    "int_from_float": "应为整数，不能带小数部分",
    "float_type": "应为数值",
    "float_parsing": "应为数值",
    "bytes_type": "应为字节串",
    "bytes_too_short": "长度至少为 {min_length} 字节",
    "bytes_too_long": "长度不能超过 {max_length} 字节",
    "bytes_invalid_encoding": "不是有效的 {encoding} 编码",
    "value_error": "取值无效",
    "assertion_error": "取值无效",
    "literal_error": "应为以下取值之一：{expected}",
    "missing_sentinel_error": "不应提供该值",
    "ellipsis_error": "不应提供该值",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "应为日期，不能带时间",
    "date_past": "应为过去的日期",
    "date_future": "应为将来的日期",
    "time_type": _TIME,
    "time_parsing": _TIME,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_past": "应为过去的时间",
    "datetime_future": "应为将来的时间",
    "timezone_naive": "不能带时区",
    "timezone_aware": "应带时区（如 +08:00）",
    "timezone_offset": "时区偏移应为 {tz_expected} 秒",
    "time_delta_type": "应为时长（如 P1D 或秒数）",
    "time_delta_parsing": "应为时长（如 P1D 或秒数）",
    "frozen_set_type": "应为不含重复项的数组",
    "is_instance_of": "类型不符合要求",
    "is_subclass_of": "类型不符合要求",
    "callable_type": "类型不符合要求",
    "union_tag_invalid": "{discriminator} 的取值无效，应为 {expected_tags} 之一",
    "union_tag_not_found": "缺少用于区分类型的字段 {discriminator}",
    "arguments_type": "参数应为数组或对象",
    "missing_argument": "缺少必填参数",
    "unexpected_keyword_argument": "不允许的参数",
    "missing_keyword_only_argument": "缺少必填参数",
    "unexpected_positional_argument": "不允许的参数",
    "missing_positional_only_argument": "缺少必填参数",
    "multiple_argument_values": "参数重复",
    "url_type": "应为网址",
    "url_parsing": "不是有效的网址",
    "url_syntax_violation": "不是有效的网址",
    "url_too_long": "网址长度不能超过 {max_length} 个字符",
    "url_scheme": "网址协议应为 {expected_schemes}",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "不是有效的 UUID",
    "uuid_version": "应为第 {expected_version} 版 UUID",
    "decimal_type": "应为数值",
    "decimal_parsing": "应为数值",
    "decimal_max_digits": "数字总位数不能超过 {max_digits} 位",
    "decimal_max_places": "小数位数不能超过 {decimal_places} 位",
    "decimal_whole_digits": "整数部分不能超过 {whole_digits} 位",
    "fraction_type": "应为数值",
    "fraction_parsing": "应为数值",
    "complex_type": "应为复数",
    "complex_str_parsing": "应为复数",
}

FALLBACK = "取值无效"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _expected(text: str) -> str:
    """pydantic's `'a', 'b' or 'c'` → `'a'、'b'、'c'`."""
    return re.sub(r",\s*|\s+or\s+", "、", text)


class _Context(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def chinese_message(error: Mapping[str, Any]) -> str:
    """The Chinese message of one pydantic error (an item of `ValidationError.errors()`)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        own = str(ctx.get("error", "")) or str(error.get("msg", ""))
        own = own.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if _CJK.search(own):  # our own validators' message (domain/), already Chinese
            return own
    if kind not in MESSAGES and _CJK.search(str(error.get("msg", ""))):
        return str(error.get("msg"))  # a custom error type raised with a Chinese message
    values = _Context({k: str(v) for k, v in ctx.items()})
    for key in ("expected", "expected_tags", "expected_schemes"):
        if key in values:
            values[key] = _expected(values[key])
    return MESSAGES.get(kind, FALLBACK).format_map(values)


_WHERE = {"query": "查询参数", "path": "路径参数", "header": "请求头", "cookie": "Cookie", "body": "请求体"}


def location(loc: Sequence[str | int], *, request: bool = False) -> str:
    """`payload.fine_amount`, `payload.items[2]`; with `request`, the part of the request first
    (`查询参数 page`, `请求体 payload.amount`)."""
    parts = list(loc)
    where = ""
    if request and parts and parts[0] in _WHERE:
        where = _WHERE[str(parts.pop(0))]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if where:
        return f"{where} {path}" if path else where
    return path or "（整体）"


def describe_errors(errors: Sequence[Mapping[str, Any]], *, request: bool = False, limit: int = 5) -> str:
    """One line naming each failed field and why, in Chinese (at most `limit`, then a count)."""
    parts = [f"{location(e.get('loc', ()), request=request)}：{chinese_message(e)}" for e in errors[:limit]]
    more = len(errors) - limit
    return "；".join(parts) + (f"；另有 {more} 处错误" if more > 0 else "")
