"""The agency page (`/agency`): the agencies' API in a browser. The page holds no data of its
own: a script (`/static/agency.js`, under the same CSP as every page) keeps the agency key in
the tab's sessionStorage and calls `/api/v1/agency/…` with it and the stated purpose, so every
look-up from the page is checked by the gate and written to the access log like any API call."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import ClockDep
from api.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/agency", response_class=HTMLResponse)
def agency_page(request: Request, clock: ClockDep) -> HTMLResponse:
    return render(
        request, "agency.html", {"title": "机构工作台", "nav_active": "agency", "today": clock.today()}
    )
