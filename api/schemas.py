"""Response schemas of the public API (named XPublic)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# the public record is described beside the function that builds it (the API and the open data)
from projections.public_record import EntityPublic as EntityPublic


class ErrorPublic(BaseModel):
    code: str = Field(description="stable machine-readable code")
    message: str = Field(description="human message (Chinese)")


class PageOutOfRangePublic(ErrorPublic):
    """404 `page_out_of_range`: the page lies past the last one."""

    pages: int = Field(description="how many pages the list has (that can be read)")
    total: int = Field(description="how many results there are")


PAGED_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": PageOutOfRangePublic, "description": "页码超出范围（page_out_of_range），附总页数"},
}


class FieldErrorPublic(BaseModel):
    loc: list[str | int] = Field(description="where: query/path/header/body, then the field")
    type: str = Field(description="pydantic's error type, e.g. int_parsing")
    message: str = Field(description="why (Chinese)")


class ValidationErrorPublic(ErrorPublic):
    """422: `invalid_request` with each failed field, or a code check (e.g. `invalid_uscc`)."""

    errors: list[FieldErrorPublic] | None = Field(None, description="each failed field (invalid_request)")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ValidationErrorPublic, "description": "参数有误（如统一社会信用代码校验错误）"},
    503: {"model": ErrorPublic, "description": "查询服务暂时不可用"},
}


class EntitySummaryPublic(BaseModel):
    uscc: str
    name: str
    status: str
    legal_representative: str | None
    established_on: str | None
    flags: list[str] = Field(description="abnormal | serious | penalty (in its publicity window)")
    former_names: list[str] = []
    entity_type: str | None = None
    district_name: str | None = None
    highlight: str | None = Field(
        None, description="the matched name (current or former) with <em> marks, HTML-escaped"
    )


class EntityPagePublic(BaseModel):
    total: int
    page: int
    size: int
    items: list[EntitySummaryPublic]


class RecordPublic(BaseModel):
    category: str
    record_id: str
    publication_id: str | None
    department: str | None
    department_name: str | None = None
    uscc: str
    entity_name: str
    title: str
    occurred_on: str
    public_until: str | None
    detail: dict[str, Any]


class RecordPagePublic(BaseModel):
    total: int
    page: int
    size: int
    items: list[RecordPublic]


class DepartmentPublic(BaseModel):
    code: str
    name: str
    short_name: str
    kinds: list[str]


class HealthPublic(BaseModel):
    status: str = Field(description="ok | degraded (search unreachable, or a projection far behind)")
    today: str = Field(description="the system date")


class PublicationAccepted(BaseModel):
    """The gateway stored the publication on the log; it is applied asynchronously."""

    publication_id: str
    status: Literal["pending"] = "pending"


class PublicationStatusPublic(BaseModel):
    """Where a publication stands: pending (not processed yet), applied, parked or rejected."""

    publication_id: str
    status: Literal["applied", "rejected", "parked", "pending"]
    code: str | None = Field(None, description="reason code when rejected (e.g. invalid_payload)")
    message: str | None = Field(None, description="human message (Chinese)")
    uscc: str | None = None
    kind: str | None = None
