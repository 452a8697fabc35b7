"""Dependencies point inward: the domain knows nothing of adapters, the API, infra or vendors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_DOMAIN = (
    "adapters",
    "api",
    "infra",
    "projections",
    "fastapi",
    "starlette",
    "uvicorn",
    "kafka",
    "elasticsearch",
    "elastic_transport",
    "psycopg",
    "sqlite3",
    "eventsourcing.postgres",
    "eventsourcing.sqlite",
    "os",
)
FORBIDDEN_IN_PROJECTIONS = ("api", "infra", "fastapi", "kafka", "elasticsearch")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_domain_imports_only_the_standard_library_pydantic_and_eventsourcing() -> None:
    assert offending("domain", FORBIDDEN_IN_DOMAIN) == []


def test_projections_do_not_import_the_api_or_vendors() -> None:
    assert offending("projections", FORBIDDEN_IN_PROJECTIONS) == []


@pytest.mark.parametrize("forbidden", ["fastapi", "adapters.search_index.sqlite"])
def test_the_import_check_catches_a_forbidden_import(tmp_path: Path, forbidden: str) -> None:
    module = tmp_path / "bad.py"
    module.write_text(f"import {forbidden}\n", encoding="utf-8")
    assert forbidden in imported_modules(module)
    assert any(forbidden == f or forbidden.startswith(f + ".") for f in FORBIDDEN_IN_DOMAIN)


def test_nothing_but_the_settings_reads_the_environment() -> None:
    readers = []
    for package in ("domain", "adapters", "projections", "api", "infra"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "os.environ" in text or "os.getenv" in text:
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []
