"""An entity's public credit record as the public reads it on a date: the answer of
`GET /api/v1/entities/{uscc}` and a line of the open-data file `entities.jsonl.gz`.

`PublicRecord` is the record itself (masking and publicity windows applied), `EntityPublic` the
API's answer: the record and the date it is as of. Both are built from a stored public document
by `public_view` (`projections.documents`), so the API and the open-data export cannot differ.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field

from domain.kinds import SECTIONS
from projections.documents import public_view

#: What the top-level fields of the record mean (the data dictionary shows them); the sections'
#: fields are described by their section label (`domain.kinds.SECTIONS`).
_FIELD_TEXT = {
    "uscc": "统一社会信用代码（18位）",
    "name": "主体名称（当前）",
    "status": "登记状态，如 存续、注销、吊销",
    "flags": "标记：abnormal 列入经营异常名录、serious 列入严重违法失信名单、"
    "penalty 有处于公示期内的行政处罚",
    "former_names": "曾用名，每项含名称及变更日期",
    "registration_number": "注册号（15位，统一社会信用代码启用前的登记号码），无则为 null",
    "district_name": "所在区（由信用代码第3–8位行政区划代码得出）",
    "status_history": "登记状态的变化，每项含状态、日期和公示编号",
    "registration": "登记信息：名称、类型、法定代表人（身份证件号码、电话、住址已去标识化）、注册资本、"
    "成立日期、住所、经营范围、登记机关等",
}


class PublicRecord(BaseModel):
    """An entity's public credit record (masking and publicity windows applied)."""

    uscc: str = Field(description=_FIELD_TEXT["uscc"])
    name: str = Field(description=_FIELD_TEXT["name"])
    status: str = Field(description=_FIELD_TEXT["status"])
    flags: list[str] = Field(description=_FIELD_TEXT["flags"])
    former_names: list[dict[str, Any]] = Field(description=_FIELD_TEXT["former_names"])
    registration_number: str | None = Field(description=_FIELD_TEXT["registration_number"])
    district_name: str | None = Field(description=_FIELD_TEXT["district_name"])
    status_history: list[dict[str, Any]] = Field(description=_FIELD_TEXT["status_history"])
    registration: dict[str, Any] = Field(description=_FIELD_TEXT["registration"])
    # then one list per section of the record (changes, filings, licences, penalties, …), in the
    # record's order, from the table of kinds
    __annotations__.update(
        {s.field: Annotated[list[dict[str, Any]], Field(description=s.label)] for s in SECTIONS if s.field}
    )


class EntityPublic(PublicRecord):
    """An entity's public credit record, as of the system's date (masking and windows applied)."""

    as_of: str = Field(description="信息截至日期（系统日期，YYYY-MM-DD）：公示期按此日期判断")


def entity_public(doc: dict[str, Any], today: date) -> EntityPublic:
    """The API's answer for a stored public document on `today`."""
    return EntityPublic(**public_view(doc, today))


#: The fields of a public record, in order.
RECORD_FIELDS = tuple(PublicRecord.model_fields)


def public_record(doc: dict[str, Any], today: date) -> dict[str, Any]:
    """The public record on `today` as JSON values: the API's answer without `as_of` (an
    open-data file states its date once, in its manifest). The validated model's fields are
    JSON values already (text, lists and objects from a stored document), so they are taken as
    they are: the same as `model_dump(mode="json")` at a third of its cost (an export serialises
    a million of them; `tests/unit/test_open_data.py` checks the two agree)."""
    record = entity_public(doc, today)
    return {name: getattr(record, name) for name in RECORD_FIELDS}
