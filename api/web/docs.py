"""`/docs`: the API's interactive documentation (Swagger UI), served entirely from this platform.

Swagger UI's files come from the `swagger-ui-bundle-v2` package (installed with the platform,
Apache-2.0), mounted at `/static/swagger-ui/`; its start-up script is the static file
`/static/docs.js`, so the page needs no inline script and holds under the pages' CSP. Nothing is
loaded from a CDN, so the page works on an intranet. ReDoc is not offered (it needs inline
styles): `/redoc` is 404.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from api.web.rendering import render

router = APIRouter(include_in_schema=False)

SWAGGER_UI = Path(str(swagger_ui_path))
ASSETS = "/static/swagger-ui"
#: What the page uses of the distribution (its demo index.html, which loads an outside
#: example document, is not served).
SERVED = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})


class _SwaggerFiles(StaticFiles):
    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if path not in SERVED:
            return "", None
        return super().lookup_path(path)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    openapi_url = request.app.openapi_url or "/openapi.json"
    return render(request, "docs.html", {"title": "开放接口", "openapi_url": openapi_url, "assets": ASSETS})


def install(app: FastAPI) -> None:
    """The page and Swagger UI's files (mounted before `/static`, which would shadow them)."""
    app.include_router(router)
    app.mount(ASSETS, _SwaggerFiles(directory=str(SWAGGER_UI)), name="swagger-ui")
