"""The FastAPI app factory. `run_background=True` also runs the ingestion worker, the
projections and the daily publicity job in threads of this process (what `gongshi serve` does),
under the one `Supervisor` that `gongshi run` uses too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from api import errors, metrics, web
from api.access import MATRIX
from api.agency_log import AgencyAccessLog
from api.gate import Gate, confirm_route, document_refusals
from api.headers import SecurityHeaders
from api.request_limits import RequestLimits
from api.routers import (
    access_log,
    admin,
    admin_acts,
    agency_changes,
    agency_entities,
    agency_match,
    agency_screening,
    department_cases,
    departments,
    enterprise,
    enterprise_account,
    enterprise_cases,
    enterprise_reports,
    entities,
    extracts,
    health,
    open_data,
    public_changes,
    publications,
    records,
)
from api.supervisor import Role, Supervisor, runners_for
from infra.bootstrap import Container

NOT_GZIPPED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf")


def create_app(container: Container, *, run_background: bool = False, owns_container: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        supervisor = Supervisor(runners_for(container, Role.serve)) if run_background else None
        app.state.supervisor = supervisor
        if supervisor is not None:
            supervisor.start()
        try:
            yield
        finally:
            if supervisor is not None:
                supervisor.stop()
            if owns_container:
                container.close()

    app = FastAPI(
        title="Gongshi 公示 — 市场主体信用信息公示系统",
        version="1.0.0",
        description="Public lookup of market entities' credit records, as published by the departments.",
        lifespan=lifespan,
        dependencies=[Depends(confirm_route)],
        docs_url=None,  # served by api/web/docs.py from local files, under the CSP
        redoc_url=None,
    )
    app.state.container = container
    app.state.matrix = MATRIX  # who may call what (api/access.py), applied by the gate
    app.add_middleware(AgencyAccessLog)  # inside the gate: every agency call written down first
    app.add_middleware(Gate)
    errors.install(app)
    for router in (
        health.router,
        entities.router,
        records.router,
        departments.router,
        department_cases.router,
        publications.router,
        publications.progress_router,
        enterprise.router,
        enterprise_account.router,
        enterprise_reports.router,
        enterprise_reports.public_router,
        enterprise_cases.router,
        agency_entities.router,
        agency_screening.router,
        agency_match.router,
        agency_changes.router,
        extracts.router,
        open_data.router,
        public_changes.router,
        admin.router,
        admin_acts.router,
        access_log.admin_router,
        access_log.enterprise_router,
        metrics.router,
    ):
        app.include_router(router)
    web.install(app)
    document_refusals(app)
    # the last added runs first: headers on every answer, also on the limits' refusals
    app.add_middleware(RequestLimits, max_query_bytes=container.settings.max_query_bytes)
    app.add_middleware(SecurityHeaders, base_url=container.settings.base_url)
    # gzip for what compresses (HTML, CSS, JS, JSON, Atom): files stored compressed (the open
    # data, `application/gzip`), PDFs and partial answers (206) are sent as they are
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6, exclude_content_types=NOT_GZIPPED)
    return app


def app_from_environment() -> FastAPI:
    """The API alone, configured from the environment: the factory each uvicorn worker process
    calls (`gongshi run api --workers N`)."""
    from infra.bootstrap import build

    return create_app(build())
