"""Who may do what: the five roles, agency scopes, principals, and how a key names its role.

Five roles call the platform:
- `public` — anyone, with no credential, or with an optional public API key that only raises
  the rate limit (the way Companies House keys its API);
- `enterprise` — one account per USCC, acting only on its own record (password login; an opaque
  token for the API, a session cookie for the pages);
- `department` — a data provider's API key (publishes in its own name only);
- `agency` — an enforcement office's key, with scopes `read`, `match`, `screen`, `feed`;
- `admin` — an operator's key.

Every key carries its role's prefix, so the role is known before the key is looked up (the
department keys' `gs_` predates the others and stays valid). Pure values: no storage here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "AGENCY_SCOPES",
    "KEY_PREFIXES",
    "USER_KINDS",
    "Principal",
    "Role",
    "check_user_name",
    "login_account",
    "parse_scopes",
    "role_of_key",
]


class Role(StrEnum):
    PUBLIC = "public"
    ENTERPRISE = "enterprise"
    DEPARTMENT = "department"
    AGENCY = "agency"
    ADMIN = "admin"


AGENCY_SCOPES: tuple[str, ...] = ("read", "match", "screen", "feed")

# The prefix of each keyed role's secrets. Longest first: `gs_` is a prefix of none of the others
# only because each of those continues with a letter before its underscore.
KEY_PREFIXES: dict[Role, str] = {
    Role.DEPARTMENT: "gs_",
    Role.AGENCY: "gsa_",
    Role.ADMIN: "gsadm_",
    Role.PUBLIC: "gsp_",
    Role.ENTERPRISE: "gse_",  # enterprise tokens (issued at login, never typed)
}
SECRET_LENGTH = 43  # secrets.token_urlsafe(32)
_KEY = re.compile(r"^(gs|gsa|gsadm|gsp|gse)_([A-Za-z0-9_\-]{43})$")
_ROLE_BY_PREFIX = {prefix: role for role, prefix in KEY_PREFIXES.items()}


def role_of_key(key: str) -> Role | None:
    """The role a well-formed key belongs to, from its prefix alone; None when malformed."""
    match = _KEY.match(key)
    if match is None:
        return None
    return _ROLE_BY_PREFIX[match.group(1) + "_"]


def parse_scopes(text: str) -> tuple[str, ...]:
    """`read,match` → ('read', 'match'), in the canonical order; a scope not known is an error."""
    given = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in given if s not in AGENCY_SCOPES]
    if unknown:
        raise ValueError(f"未知的权限范围：{'、'.join(unknown)}（可用：{','.join(AGENCY_SCOPES)}）")
    if not given:
        raise ValueError(f"至少需要一个权限范围（可用：{','.join(AGENCY_SCOPES)}）")
    return tuple(s for s in AGENCY_SCOPES if s in given)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a role, the subject it acts as, and the key or token it showed.

    `subject` is the department code, the agency's office code, the admin's name, the public key's
    name or the enterprise's USCC; None for the anonymous public. `rate_limit` is a key's own
    limit in the `limits` notation (`600/minute`), when it has one. `user` is, for an enterprise,
    the invited user (staff or accounting agent) acting for it; None for the account's own
    liaison login.
    """

    role: Role
    subject: str | None = None
    key_id: str | None = None
    scopes: tuple[str, ...] = field(default=())
    rate_limit: str | None = None
    user: str | None = None

    @property
    def id(self) -> str:
        """How logs and stored events name the principal: `department:TJ-AMR/key:ab12cd34`,
        `enterprise:9112…` (the liaison), `enterprise:9112…/user:wang` (an invited user)."""
        if self.subject is None:
            return self.role.value
        text = f"{self.role.value}:{self.subject}"
        if self.role == Role.ENTERPRISE:
            return f"{text}/user:{self.user}" if self.user else text
        return f"{text}/key:{self.key_id}" if self.key_id else text

    @property
    def is_liaison(self) -> bool:
        """The enterprise account's own login (not an invited user)."""
        return self.role == Role.ENTERPRISE and self.user is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


ANONYMOUS = Principal(Role.PUBLIC)


# --- enterprise users ---------------------------------------------------------------------------

#: What an invited user is to the enterprise (the liaison invites them; `gongshi enterprises
#: invite` invites the liaison): its own staff, or an accounting agent (代账机构) acting for it.
USER_KINDS: dict[str, str] = {"staff": "本企业经办人", "agent": "代理记账机构"}
_USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


def check_user_name(name: str) -> str:
    """A user's login name as typed → as stored (lower case); ValueError with a Chinese message."""
    value = name.strip().lower()
    if not _USER_NAME.match(value):
        raise ValueError("用户名应为 2–32 位小写字母、数字、点、下划线或连字符，以字母或数字开头")
    return value


def login_account(uscc: str, user: str | None) -> str:
    """The name failed logins are counted under: the USCC, or `USCC/user` for an invited user."""
    return f"{uscc}/{user}" if user else uscc


# --- failed logins ------------------------------------------------------------------------------

FREE_FAILURES = 3  # failures from one address for one account before any delay
MAX_DELAY_S = 900
ADDRESS_FREE_FAILURES = 20  # failures from one address across all accounts (credential stuffing)


def login_delay(failures: int, *, free: int = FREE_FAILURES) -> int:
    """Seconds a client must wait after `failures` failed logins in a row: none for the first
    `free`, then 2, 4, 8 … seconds, at most 15 minutes. A delay, never a lockout: it is counted
    per account *and* client address, so nobody who merely knows a USCC (it is public) can keep
    the enterprise itself out, e.g. on the last day of the annual-report window."""
    if failures < free:
        return 0
    return int(min(MAX_DELAY_S, 2 ** (failures - free + 1)))


def throttle_message(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    wait = f"{minutes} 分 {rest} 秒" if minutes else f"{rest} 秒"
    return f"登录失败次数过多，请 {wait}后再试"
