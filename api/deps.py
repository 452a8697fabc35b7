"""FastAPI dependencies: each route names the few things it uses, never the whole container.

Every alias reads the app's container (`app.state.container`) at request time, so a test that
replaces or patches a part of the container is seen by the next request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from adapters.access_log import AccessLog
from adapters.audit_trail import AuditTrail
from adapters.change_store import ChangeStore
from adapters.credentials import CredentialStore
from adapters.extract_ledger import ExtractLedger
from adapters.extract_seal import ExtractSeal
from adapters.feedback import FeedbackStore
from adapters.publication_log.base import Headers, PublicationLog
from adapters.search_index.base import SearchIndex
from adapters.status_view import StatusView
from api.conditional import EntityVersions
from api.csrf import check_csrf
from api.errors import ApiError, Refusal
from api.operations import Operations
from casework.applications import ApplicationDesk, DecisionDesk
from casework.desk import EnterpriseDesk
from domain.access import Principal, Role
from domain.clock import Clock
from domain.departments import DepartmentRegistry
from domain.uscc import partition_key
from infra.bootstrap import Container
from infra.settings import Settings
from ingestion.worker import IngestionWorker
from opendata.daily import ReleasePolicy
from opendata.releases import Releases
from projections.following import Follower
from projections.history import EntityHistory
from projections.runner import EntityProjection


async def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


_ContainerDep = Annotated[Container, Depends(_container)]


async def _index(container: _ContainerDep) -> SearchIndex:
    return container.index


async def _clock(container: _ContainerDep) -> Clock:
    return container.clock


def _departments(container: _ContainerDep) -> DepartmentRegistry:
    return container.departments


def _seal(container: _ContainerDep) -> ExtractSeal:
    return container.extract_seal


def _ledger(container: _ContainerDep) -> ExtractLedger:
    return container.extract_ledger


def _entity_versions(container: _ContainerDep) -> EntityVersions:
    return container.entity_reader


def _public_url(container: _ContainerDep) -> str:
    return container.settings.base_url


def _status_view(container: _ContainerDep) -> StatusView:
    return container.status_view


def _followers(container: _ContainerDep) -> list[Follower]:
    return container.followers


def _public_projection(container: _ContainerDep) -> EntityProjection:
    return container.projection


def _open_data(container: _ContainerDep) -> Releases:
    return container.open_data_releases


def _open_data_policy(container: _ContainerDep) -> ReleasePolicy:
    return container.open_data_policy


def _worker(container: _ContainerDep) -> IngestionWorker | None:
    # only when this process has built one (it runs ingestion): never start one for a scrape
    worker: IngestionWorker | None = container.__dict__.get("worker")
    return worker


class PublicationTopic:
    """Where the gateway puts a department's envelope: the topic the departments' Kafka
    producers write to, keyed like theirs, signed with the platform's key in the name of the
    department key that called (`department:TJ-AMR/key:<key id>`)."""

    def __init__(
        self, log: PublicationLog, topic: str, sign: Callable[[str], Callable[[bytes], Headers]]
    ) -> None:
        self.log = log
        self.topic = topic
        self.sign = sign

    def publish(self, value: bytes, uscc: str, principal: str) -> None:
        headers = self.sign(principal)(value)
        self.log.produce(self.topic, value, key=partition_key(uscc), headers=headers)
        self.log.flush()  # on the log for sure before the 202


def _publication_topic(container: _ContainerDep) -> PublicationTopic:
    return PublicationTopic(
        container.log, container.settings.publications_topic, container.signed_by_platform
    )


IndexDep = Annotated[SearchIndex, Depends(_index)]
ClockDep = Annotated[Clock, Depends(_clock)]
DepartmentsDep = Annotated[DepartmentRegistry, Depends(_departments)]
LedgerDep = Annotated[ExtractLedger, Depends(_ledger)]
EntityVersionsDep = Annotated[EntityVersions, Depends(_entity_versions)]
SealDep = Annotated[ExtractSeal, Depends(_seal)]
StatusViewDep = Annotated[StatusView, Depends(_status_view)]
#: The platform's public base URL (`GONGSHI_PUBLIC_URL`), for every absolute URL it prints —
#: never the request's Host header.
PublicUrlDep = Annotated[str, Depends(_public_url)]
FollowersDep = Annotated[list[Follower], Depends(_followers)]
#: The `entities` projection: the position the public pages reflect.
PublicProjectionDep = Annotated[EntityProjection, Depends(_public_projection)]
#: This process's ingestion worker, if it runs one (for its counts).
WorkerDep = Annotated[IngestionWorker | None, Depends(_worker)]
PublicationTopicDep = Annotated[PublicationTopic, Depends(_publication_topic)]
#: The released open-data files, and when they are written.
OpenDataDep = Annotated[Releases, Depends(_open_data)]
OpenDataPolicyDep = Annotated[ReleasePolicy, Depends(_open_data_policy)]


#: Every route that changes something on a form post takes it (`api/csrf.py`): 403 `csrf_failed`
#: without the form's signed token. Calls with an `Authorization` header pass.
CsrfDep = Depends(check_csrf)


# --- who is calling (decided by the gate, api/gate.py, from the matrix, api/access.py) ----------

# Declared for the OpenAPI document only (auto_error off): the gate has already read and checked
# the credential by the time a route runs.
_bearer = HTTPBearer(
    auto_error=False,
    description="密钥或令牌：`Authorization: Bearer gs_…`（部门）、`gsa_…`（机构）、`gsadm_…`（管理员）、"
    "`gsp_…`（公众）、`gse_…`（企业令牌）",
)
_api_key = APIKeyHeader(
    name="X-Api-Key", auto_error=False, description="部门密钥也可以 `X-Api-Key: gs_…` 提交"
)
_BearerDoc = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_ApiKeyDoc = Annotated[str | None, Depends(_api_key)]


def _principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # the gate always sets it: without the gate nothing is let through
        raise ApiError(500, "internal_error", "服务器内部错误，请稍后再试")
    return principal


def _client_address(request: Request) -> str:
    address: str | None = getattr(request.state, "client_address", None)
    return address or (request.client.host if request.client else "-")


#: Who is calling: the anonymous public (`domain.access.ANONYMOUS`) or the key's or token's owner.
PrincipalDep = Annotated[Principal, Depends(_principal)]
#: The client's address (behind a trusted proxy: from X-Forwarded-For; see api/limits.py).
ClientAddressDep = Annotated[str, Depends(_client_address)]


def _subject_of(principal: Principal, role: Role) -> str:
    # the matrix lets only `role` reach a route that asks for it; this is the second lock
    if principal.role != role or principal.subject is None:
        raise Refusal("forbidden")
    return principal.subject


def authenticated_department(principal: PrincipalDep, _bearer: _BearerDoc, _api_key: _ApiKeyDoc) -> str:
    """The department whose key the request carries."""
    return _subject_of(principal, Role.DEPARTMENT)


async def own_department(
    request: Request, principal: PrincipalDep, _bearer: _BearerDoc, _api_key: _ApiKeyDoc
) -> Principal:
    """A department acts on its own desk only: `{code}` in the path must be its key's
    department, else 403 (the matrix's own-only rule for department rows)."""
    code = _subject_of(principal, Role.DEPARTMENT)
    if request.path_params.get("code") not in (None, code):
        raise Refusal("forbidden", f"只能办理本部门（{code}）的事项")
    return principal


def authenticated_department_key(
    principal: PrincipalDep, _bearer: _BearerDoc, _api_key: _ApiKeyDoc
) -> Principal:
    """The calling department's key (`principal.id`: `department:TJ-AMR/key:<key id>`)."""
    _subject_of(principal, Role.DEPARTMENT)
    return principal


def _normalised_uscc(value: object) -> str:
    return "".join(ch for ch in str(value) if ch not in " -\t").upper()


async def _own_uscc_only(request: Request, uscc: str) -> None:
    """The matrix's own-USCC rule (`Access.own_only`): a USCC named in the path (`{uscc}`) or at
    the top of a JSON body (`"uscc"`) must be the caller's own, else 403 `forbidden`."""
    row = getattr(request.state, "access", None)
    if row is None or not getattr(row, "own_only", False):
        return
    named = [request.path_params.get("uscc")]
    if request.method in ("POST", "PUT", "PATCH") and "json" in request.headers.get("content-type", ""):
        try:
            body = await request.json()
        except ValueError:  # not JSON: the route's own validation answers
            body = None
        if isinstance(body, dict):
            named.append(body.get("uscc"))
    for value in named:
        if value not in (None, "") and _normalised_uscc(value) != uscc:
            raise Refusal("forbidden", f"只能办理本企业（统一社会信用代码 {uscc}）的事项")


async def authenticated_enterprise(request: Request, principal: PrincipalDep, _bearer: _BearerDoc) -> str:
    """The USCC of the enterprise whose token (or session) the request carries; any other USCC
    in the path or body is refused (403)."""
    uscc = _subject_of(principal, Role.ENTERPRISE)
    await _own_uscc_only(request, uscc)
    return uscc


async def authenticated_enterprise_principal(
    request: Request, principal: PrincipalDep, _bearer: _BearerDoc
) -> Principal:
    """Who acts for the enterprise: its liaison, or an invited user (`principal.user`)."""
    await authenticated_enterprise(request, principal, _bearer)
    return principal


async def enterprise_liaison(request: Request, principal: PrincipalDep, _bearer: _BearerDoc) -> Principal:
    """Only the account's own login (the liaison) manages the enterprise's users."""
    await authenticated_enterprise(request, principal, _bearer)
    if not principal.is_liaison:
        raise Refusal("forbidden", "只有本企业联络员（账户本身）可以管理经办用户")
    return principal


def authenticated_agency(principal: PrincipalDep, _bearer: _BearerDoc) -> Principal:
    """The agency key's principal (its office code is `subject`, its scopes `scopes`)."""
    _subject_of(principal, Role.AGENCY)
    return principal


def authenticated_admin(principal: PrincipalDep, _bearer: _BearerDoc) -> Principal:
    """The operator's key (`principal.id`: `admin:NAME/key:ID`, the audit trail's "who")."""
    _subject_of(principal, Role.ADMIN)
    return principal


#: The calling operator's key.
AdminDep = Annotated[Principal, Depends(authenticated_admin)]


def _operations(container: _ContainerDep) -> Operations:
    return Operations(container)


#: The operators' acts (api/operations.py), the same the command line calls.
OperationsDep = Annotated[Operations, Depends(_operations)]


#: The department code of the calling department's key.
DepartmentDep = Annotated[str, Depends(authenticated_department)]
#: The USCC of the logged-in enterprise.
EnterpriseDep = Annotated[str, Depends(authenticated_enterprise)]
#: Who acts for the logged-in enterprise (`principal.id` is what its filings are signed for).
EnterprisePrincipalDep = Annotated[Principal, Depends(authenticated_enterprise_principal)]
#: The enterprise's own login (not an invited user).
LiaisonDep = Annotated[Principal, Depends(enterprise_liaison)]
#: The calling agency key (scopes checked by the matrix row).
AgencyDep = Annotated[Principal, Depends(authenticated_agency)]


def _desk(container: _ContainerDep) -> EnterpriseDesk:
    return container.desk


#: The enterprises' use cases (casework/desk.py).
DeskDep = Annotated[EnterpriseDesk, Depends(_desk)]


def _credentials(container: _ContainerDep) -> CredentialStore:
    return container.credentials


def _audit(container: _ContainerDep) -> AuditTrail:
    return container.audit


def _settings(container: _ContainerDep) -> Settings:
    return container.settings


#: The credential store (enterprise login and activation).
CredentialsDep = Annotated[CredentialStore, Depends(_credentials)]
#: The audit trail of administrative acts.
AuditDep = Annotated[AuditTrail, Depends(_audit)]
#: The platform's settings (read-only).
SettingsDep = Annotated[Settings, Depends(_settings)]
#: The calling department's key itself (its id names who acted, in what the gateway signs).
DepartmentKeyDep = Annotated[Principal, Depends(authenticated_department_key)]
#: The calling department's key, on a route of its own desk (`{code}`: its own only).
OwnDepartmentDep = Annotated[Principal, Depends(own_department)]


def _applications(container: _ContainerDep) -> ApplicationDesk:
    return container.applications


def _decisions(container: _ContainerDep) -> DecisionDesk:
    return container.decisions


#: Enterprises' applications and objections; departments' decisions (casework/applications.py).
ApplicationsDep = Annotated[ApplicationDesk, Depends(_applications)]
DecisionsDep = Annotated[DecisionDesk, Depends(_decisions)]


def _access_log(container: _ContainerDep) -> AccessLog:
    return container.access_log


#: The access log of agency calls (append-only; api/agency_log.py writes it).
AccessLogDep = Annotated[AccessLog, Depends(_access_log)]


def _history(container: _ContainerDep) -> EntityHistory:
    return container.history


#: Entities' events with positions, and records as of a date (from the event store).
HistoryDep = Annotated[EntityHistory, Depends(_history)]


def _feedback(container: _ContainerDep) -> FeedbackStore:
    return container.feedback


#: Measures agencies reported applying (联合奖惩反馈), append-only.
FeedbackDep = Annotated[FeedbackStore, Depends(_feedback)]


def _change_store(container: _ContainerDep) -> ChangeStore:
    return container.change_store


class WebhookSecrets:
    """A watchlist's webhook key (derived from the platform secret)."""

    def __init__(self, secret_key: bytes) -> None:
        self._secret_key = secret_key

    def __call__(self, watchlist_id: str) -> str:
        from projections.watchlists import webhook_secret

        return webhook_secret(self._secret_key, watchlist_id)


def _webhook_secret(container: _ContainerDep) -> WebhookSecrets:
    return WebhookSecrets(container.secret_key)


#: The change table and the agencies' watchlists.
ChangeStoreDep = Annotated[ChangeStore, Depends(_change_store)]
#: A watchlist's webhook signing key (derived from the platform secret; shown once).
WebhookSecretDep = Annotated[WebhookSecrets, Depends(_webhook_secret)]
