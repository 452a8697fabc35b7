"""Routes take the few things they use (`IndexDep`, `ClockDep`, the authenticated department…),
never the whole container."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.app import create_app
from infra.bootstrap import Container, build
from infra.settings import Settings


def _types(annotation: object) -> set[object]:
    """The classes an annotation names (through Annotated, unions and generics)."""
    found = {annotation}
    for arg in typing.get_args(annotation):
        found |= _types(arg)
    return found


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every route of the app, also those inside included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        yield from api_routes(getattr(included, "routes", None) or getattr(route, "routes", None) or [])


def test_no_route_takes_the_container(tmp_path: Path) -> None:
    app = create_app(build(Settings(data_dir=tmp_path)))
    routes = list(api_routes(app.routes))
    assert len(routes) > 15
    takers = []
    for route in routes:
        hints = typing.get_type_hints(route.endpoint, include_extras=True)
        if any(Container in _types(hint) for name, hint in hints.items() if name != "return"):
            takers.append(f"{route.path} ({route.endpoint.__name__})")
    assert takers == []


def handler_taking_the_container(container: Annotated[Container, "a dependency"]) -> None: ...


def test_the_check_sees_a_route_that_takes_the_container() -> None:
    hints = typing.get_type_hints(handler_taking_the_container, include_extras=True)
    assert Container in _types(hints["container"])
