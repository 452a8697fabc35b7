"""The FastAPI app factory. `run_background=True` also runs the ingestion worker and the
projection in threads of this process (what `gongshi serve` does)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors, metrics, web
from api.routers import admin, departments, entities, extracts, health, publications, records
from infra.bootstrap import Container


def create_app(container: Container, *, run_background: bool = False, owns_container: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threads = []
        if run_background:
            for target in (
                container.worker.run_forever,
                container.projection.run_forever,
                container.status_projection.run_forever,
                container.publicity.run_forever,
            ):
                thread = threading.Thread(target=target, daemon=True, name=target.__qualname__)
                thread.start()
                threads.append(thread)
        try:
            yield
        finally:
            if run_background:
                container.worker.stop()
                container.projection.stop()
                container.status_projection.stop()
                container.publicity.stop()
                for thread in threads:
                    thread.join(timeout=10)
            if owns_container:
                container.close()

    app = FastAPI(
        title="Gongshi 公示 — 市场主体信用信息公示系统",
        version="1.0.0",
        description="Public lookup of market entities' credit records, as published by the departments.",
        lifespan=lifespan,
    )
    app.state.container = container
    errors.install(app)
    for router in (
        health.router,
        entities.router,
        records.router,
        departments.router,
        publications.router,
        extracts.router,
        admin.router,
        metrics.router,
    ):
        app.include_router(router)
    web.install(app)
    return app
