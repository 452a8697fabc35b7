"""FastAPI dependencies: each route names the few things it uses, never the whole container.

Every alias reads the app's container (`app.state.container`) at request time, so a test that
replaces or patches a part of the container is seen by the next request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from adapters.credentials import CredentialsUnavailable
from adapters.extract_ledger import ExtractLedger
from adapters.publication_log.base import PublicationLog
from adapters.search_index.base import SearchIndex
from adapters.status_view import StatusView
from api.csrf import check_csrf
from api.errors import ApiError, Refusal, wait_text
from domain.clock import Clock
from domain.departments import DepartmentRegistry
from domain.uscc import partition_key
from infra.bootstrap import Container
from ingestion.worker import IngestionWorker
from projections.following import Follower
from projections.runner import EntityProjection


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


_ContainerDep = Annotated[Container, Depends(_container)]


def _index(container: _ContainerDep) -> SearchIndex:
    return container.index


def _clock(container: _ContainerDep) -> Clock:
    return container.clock


def _departments(container: _ContainerDep) -> DepartmentRegistry:
    return container.departments


def _ledger(container: _ContainerDep) -> ExtractLedger:
    return container.extract_ledger


def _public_url(container: _ContainerDep) -> str:
    return container.settings.base_url


def _status_view(container: _ContainerDep) -> StatusView:
    return container.status_view


def _followers(container: _ContainerDep) -> list[Follower]:
    return container.followers


def _public_projection(container: _ContainerDep) -> EntityProjection:
    return container.projection


def _worker(container: _ContainerDep) -> IngestionWorker | None:
    # only when this process has built one (it runs ingestion): never start one for a scrape
    worker: IngestionWorker | None = container.__dict__.get("worker")
    return worker


class PublicationTopic:
    """Where the gateway puts a department's envelope: the topic the departments' Kafka
    producers write to, keyed like theirs."""

    def __init__(self, log: PublicationLog, topic: str) -> None:
        self.log = log
        self.topic = topic

    def publish(self, value: bytes, uscc: str) -> None:
        self.log.produce(self.topic, value, key=partition_key(uscc))
        self.log.flush()  # on the log for sure before the 202


def _publication_topic(container: _ContainerDep) -> PublicationTopic:
    return PublicationTopic(container.log, container.settings.publications_topic)


IndexDep = Annotated[SearchIndex, Depends(_index)]
ClockDep = Annotated[Clock, Depends(_clock)]
DepartmentsDep = Annotated[DepartmentRegistry, Depends(_departments)]
LedgerDep = Annotated[ExtractLedger, Depends(_ledger)]
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


# --- the extract bucket ------------------------------------------------------------------------


def extract_rate_limit(request: Request, container: _ContainerDep) -> None:
    """Count a PDF extract download against `GONGSHI_RATE_LIMIT_EXTRACTS` per client address
    (the `extracts` bucket, lower than the pages' own); 429 `rate_limited` past it."""
    caller = request.client.host if request.client else "unknown"
    decision = container.rate_limiter.hit("extracts", caller, container.settings.rate_limit_extracts)
    if not decision.allowed:
        raise Refusal(
            "rate_limited",
            f"信用信息报告下载过于频繁，请 {wait_text(decision.retry_after)}后再试",
            retry_after=decision.retry_after,
        )


ExtractRateLimitDep = Depends(extract_rate_limit)

#: Every route that changes something on a form post takes it (`api/csrf.py`): 403 `csrf_failed`
#: without the form's signed token. Calls with an `Authorization` header pass.
CsrfDep = Depends(check_csrf)


# --- the authenticated department -------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="部门 API 密钥：`Authorization: Bearer gs_…`")
_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, description="或以 `X-Api-Key: gs_…` 提交")


def authenticated_department(
    container: _ContainerDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> str:
    """The department whose API key the request carries (`Authorization: Bearer` or
    `X-Api-Key`); 401 without a valid one, 503 when the credential store is down."""
    key = bearer.credentials if bearer is not None else api_key
    try:
        department = container.credentials.department_for(key.strip()) if key else None
    except CredentialsUnavailable:
        raise ApiError(503, "credentials_unavailable", "认证服务暂时不可用，请稍后再试") from None
    if department is None:
        raise ApiError(
            401,
            "unauthorized",
            "缺少或无效的部门密钥，请以 Authorization: Bearer 提交",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return department


DepartmentDep = Annotated[str, Depends(authenticated_department)]
