"""The domain's own exceptions. Each carries a stable machine code and a Chinese message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.detail: dict[str, Any] = detail


class InvalidUSCC(DomainError):
    code = "invalid_uscc"


class InvalidRegistrationNumber(DomainError):
    code = "invalid_registration_number"


class InvalidIdentityNumber(DomainError):
    code = "invalid_identity_number"


class EntityNotFound(DomainError):
    code = "entity_not_found"

    def __init__(self, uscc: str) -> None:
        super().__init__(f"未找到统一社会信用代码为 {uscc} 的市场主体", uscc=uscc)


class InvariantViolated(DomainError):
    """A command that would break one of the aggregate's invariants."""

    code = "invariant_violated"


class NotFound(DomainError):
    """What a use case was asked for does not exist (a draft, an application, a filing)."""

    code = "not_found"


class InvalidFiling(DomainError):
    """A filing that fails its checks: `detail["errors"]` lists each failed field as
    `{loc, type, message}` (Chinese), like the 422 of a malformed request."""

    code = "invalid_filing"
