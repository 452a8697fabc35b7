"""The public website: server-rendered pages (Jinja2), static files, HTML error pages, the PDF
credit extract and its verification page, and the API's documentation page (`/docs`)."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the page routers, `/static`, and HTML error pages for page routes (after `api.errors`)."""
    from api.web import agency, docs, enterprise, errors, feed, open_data, pages, portal, verify
    from api.web.rendering import STATIC
    from api.web.static_files import HashedStaticFiles

    app.include_router(pages.router)
    app.include_router(open_data.router)
    app.include_router(feed.router)
    app.include_router(verify.router)
    app.include_router(enterprise.router)
    app.include_router(portal.router)
    app.include_router(agency.router)
    docs.install(app)
    app.mount("/static", HashedStaticFiles(directory=str(STATIC)), name="static")
    errors.install(app)
