"""Intake: from a raw message to a valid publication, or to a rejection.

`Intake.check(message, signature)` takes what a department published (bytes, text or a parsed
dict) with the outcome of checking its signature (`domain.signatures`), and returns either a
`Publication` — signed by a key that may sign for its department, well-formed, of a kind the
platform applies, for a valid USCC, from a known department within its mandate, with a valid
payload and no business date after the system date — or the rejecting `Outcome`, with a stable
reason code and a Chinese message. The signature comes first: a message whose signature was
refused, or whose department is not the signing key's, is rejected as `bad_signature` whatever
else it holds (the ids it claims are kept on the rejection, for the publisher to find it).
`signature=None` is for the platform's own in-process calls (tests, tools that write the event
store directly), which read no log: what comes from the log is always checked by the worker.
Nothing here reads or writes the event store; the registry decides what the publication does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import ValidationError

from domain import publications as pub
from domain.clock import Clock
from domain.departments import DepartmentRegistry, DepartmentType
from domain.errors import InvalidUSCC
from domain.kinds import Kind, KindTable
from domain.signatures import PLATFORM, Provenance, Signed, Unsigned
from domain.uscc import USCC

Status = Literal["applied", "duplicate", "parked", "rejected"]


@dataclass(frozen=True)
class Outcome:
    """What became of one publication."""

    status: Status
    publication_id: str | None = None
    uscc: str | None = None
    kind: str | None = None
    department: str | None = None
    code: str | None = None
    message: str | None = None
    released: tuple[Outcome, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "released" and v is not None}
        if self.released:
            out["released"] = [o.as_dict() for o in self.released]
        return out


@dataclass(frozen=True, slots=True)
class Publication:
    """A publication that passed intake; `data` is its validated payload, JSON-ready."""

    envelope: pub.Envelope
    kind: Kind
    data: dict[str, Any]
    uscc: str
    provenance: Provenance | None = None  # which key signed it, who acted (None: an in-process call)

    def with_provenance(self, provenance: Provenance | None) -> Publication:
        return replace(self, provenance=provenance)

    def ids(self) -> dict[str, Any]:
        """The fields every outcome of this publication names."""
        return {
            "publication_id": self.envelope.publication_id,
            "uscc": self.uscc,
            "kind": self.envelope.kind,
            "department": self.envelope.department,
        }

    def outcome(self, status: Status, **fields: Any) -> Outcome:
        return Outcome(status, **self.ids(), **fields)


def bad_signature_message(reason: str) -> str:
    return f"签名验证失败：{reason}"


def enterprise_signature_problem(signature: Signed, uscc: str) -> str | None:
    """Why a signed envelope may not be an enterprise's own filing (None: it may).

    An enterprise files through its account: the platform signs the envelope for the
    authenticated USCC (`enterprise:<USCC>`, or `enterprise:<USCC>/user:…` for an invited user).
    No department key signs for the enterprise channel, and one enterprise never files for
    another. The platform's own jobs (`job:…`: a bulk load of historical filings) may."""
    if signature.owner != PLATFORM:
        return f"签名密钥“{signature.key_id}”属于“{signature.owner}”：企业自主公示只能由企业经本平台账户提交"
    principal = signature.principal or ""
    own = f"enterprise:{uscc}"
    if principal == own or principal.startswith(own + "/") or principal.startswith("job:"):
        return None
    return f"企业自主公示的经办主体“{principal or PLATFORM}”不是该企业（{uscc}）本身"


def unsupported_kind_message(kind: Kind) -> str:
    return f"公示类型“{kind.label}”（{kind.name}）暂不受理：平台尚未配置其处理方式"


class Intake:
    """Checks publications against the envelope schema, the kinds, the departments and the date."""

    def __init__(self, *, clock: Clock, departments: DepartmentRegistry, kinds: KindTable) -> None:
        self.clock = clock
        self.departments = departments
        self.kinds = kinds

    def check(
        self, message: bytes | str | Mapping[str, Any], signature: Signed | Unsigned | None = None
    ) -> Publication | Outcome:
        raw: Any = None
        bad_json: ValueError | None = None
        if isinstance(message, (bytes, bytearray, str)):
            try:
                raw = json.loads(message)
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                bad_json = err
        else:
            raw = message
        ids: dict[str, Any] = {
            k: raw.get(k) if isinstance(raw, dict) and isinstance(raw.get(k), str) else None
            for k in ("publication_id", "uscc", "kind", "department")
        }

        def rejected(code: str, message: str) -> Outcome:
            return Outcome("rejected", **ids, code=code, message=message)

        if isinstance(signature, Unsigned):
            return rejected(pub.REASON_BAD_SIGNATURE, bad_signature_message(signature.message))
        claimed = ids["department"]
        if isinstance(signature, Signed) and claimed is not None and not signature.may_sign_for(claimed):
            return rejected(
                pub.REASON_BAD_SIGNATURE,
                bad_signature_message(
                    f"签名密钥“{signature.key_id}”属于“{signature.owner}”，不能为部门“{claimed}”的公示签名"
                ),
            )
        if bad_json is not None:
            return Outcome("rejected", code=pub.REASON_MALFORMED, message=f"消息不是有效的 JSON：{bad_json}")
        if not isinstance(raw, dict):
            return Outcome("rejected", code=pub.REASON_MALFORMED, message="消息必须是 JSON 对象")

        try:
            envelope = pub.Envelope.model_validate(raw)
        except ValidationError as err:
            return rejected(
                pub.REASON_INVALID_ENVELOPE, f"信封格式错误：{pub.describe_validation_error(err)}"
            )
        kind = self.kinds.get(envelope.kind)
        if kind is None:
            return rejected(pub.REASON_UNKNOWN_KIND, f"未知的公示类型“{envelope.kind}”")
        if not kind.applicable:
            return rejected(pub.REASON_UNSUPPORTED_KIND, unsupported_kind_message(kind))
        try:
            uscc = USCC.parse(envelope.uscc).value
        except InvalidUSCC as err:
            return rejected(pub.REASON_INVALID_USCC, err.message)
        ids["uscc"] = uscc
        # the mandate in force on the date the publication arrives
        department = self.departments.get(envelope.department, on=self.clock.today())
        if department is None:
            if self.departments.known(envelope.department):
                return rejected(
                    pub.REASON_DEPARTMENT_DISABLED,
                    f"部门“{envelope.department}”已停用或尚未启用，不能公示信息",
                )
            return rejected(pub.REASON_UNKNOWN_DEPARTMENT, f"未登记的部门“{envelope.department}”")
        if not department.may_publish(envelope.kind):
            return rejected(pub.REASON_OUTSIDE_MANDATE, f"{department.name}无权公示“{envelope.kind}”类信息")
        if department.type == DepartmentType.ENTERPRISE and isinstance(signature, Signed):
            problem = enterprise_signature_problem(signature, uscc)
            if problem is not None:
                return rejected(pub.REASON_BAD_SIGNATURE, bad_signature_message(problem))
        try:
            payload = kind.payload.model_validate(envelope.payload)
        except ValidationError as err:
            return rejected(
                pub.REASON_INVALID_PAYLOAD, f"{envelope.kind} 内容错误：{pub.describe_validation_error(err)}"
            )
        future = pub.future_date_message(envelope.occurred_on, payload, self.clock.today())
        if future is not None:
            return rejected(pub.REASON_FUTURE_DATE, future)
        return Publication(
            envelope,
            kind,
            payload.model_dump(mode="json", exclude_none=True),
            uscc,
            signature.provenance() if isinstance(signature, Signed) else None,
        )
