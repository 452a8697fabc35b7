"""Dependencies point inward, checked against an allow-list per layer.

Each layer names what it may import: its own package, the layers below it, and the vendors it
is there to wrap. Anything else — a vendor nobody listed, an upper layer, a concrete adapter
where only a port belongs — is a violation. The standard library is open to every layer except
the modules listed in `Layer.stdlib_denied`.

    domain        the standard library (no I/O modules), pydantic, python-stdnum, eventsourcing's
                  domain/application/persistence/utils
      domain.names  + pure text libraries for Chinese names (pypinyin, rapidfuzz, OpenCC)
    adapters      domain + the vendors they wrap (Kafka, Elasticsearch, PostgreSQL, eventsourcing)
    projections   domain + the adapters' ports (never a concrete adapter), eventsourcing's records
    ingestion     domain + the publication-log port
    opendata      domain + projections + the search-index port (the open-data files)
    casework      domain + the ports it publishes and reads through (log, status view, the
                  enterprise store, the casework view)
    infra         everything below the API — never `api`
    api           everything (the entry points: HTTP, web pages, command line)

A new top-level package fails the check until it gets a line here.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Anything at all (the entry points).
ANY = "*"

#: The standard library's ways out of the process: the domain reads no files, sockets or
#: environment and starts nothing (its data files come through `importlib.resources`).
IO_MODULES = (
    "os",
    "sys",
    "sqlite3",
    "socket",
    "ssl",
    "http",
    "urllib",
    "asyncio",
    "subprocess",
    "multiprocessing",
    "shutil",
    "tempfile",
    "pathlib",
    "logging",
)


@dataclass(frozen=True)
class Layer:
    #: Module prefixes this layer may import ("a.b" allows "a.b" and "a.b.*"), besides the
    #: standard library.
    may_import: tuple[str, ...]
    #: Standard-library modules it may not import.
    stdlib_denied: tuple[str, ...] = ()


_DOMAIN = (
    "domain",
    "pydantic",
    "stdnum",
    "eventsourcing.domain",
    "eventsourcing.application",
    "eventsourcing.persistence",
    "eventsourcing.utils",
)

#: The allow-list, by package; a module follows the longest package name that contains it.
LAYERS: dict[str, Layer] = {
    "domain": Layer(_DOMAIN, stdlib_denied=IO_MODULES),
    # Knowledge about Chinese names (legal forms, districts, pinyin, traditional and full-width
    # forms) is domain knowledge; these pure text libraries carry it (issue 10 §4).
    "domain.names": Layer((*_DOMAIN, "pypinyin", "rapidfuzz", "opencc"), stdlib_denied=IO_MODULES),
    "adapters": Layer(
        (
            "adapters",
            "domain",
            "eventsourcing",
            "kafka",
            "elasticsearch",
            "elastic_transport",
            "psycopg",
            "psycopg_pool",
            "orjson",
            "pwdlib",  # password hashing (argon2id)
            "cryptography",  # Ed25519 envelope signatures
            "limits",  # rate-limit counters (memory, Redis)
            "pyhanko",  # the extracts' PAdES seal
            "pyhanko_certvalidator",
            "asn1crypto",
            "httpx",  # watchlists' webhooks
        )
    ),
    "projections": Layer(
        (
            "projections",
            "domain",
            # ports only: the runners are handed their adapters by the composition root
            "adapters.search_index.base",
            "adapters.publication_log.base",
            "adapters.status_view",
            "adapters.tracking",
            "adapters.casework_view",
            "adapters.change_store.base",
            "eventsourcing.persistence",
            "eventsourcing.projection",
            "eventsourcing.utils",
            "pydantic",
            "orjson",
        )
    ),
    "ingestion": Layer(("ingestion", "domain", "adapters.publication_log.base", "eventsourcing.persistence")),
    # the open-data files: written from the search-index port's documents by the projections'
    # functions (the same public record as the API), read back for deltas (issue 14)
    "opendata": Layer(
        ("opendata", "domain", "projections", "adapters.search_index.base", "pydantic", "orjson")
    ),
    # enterprises' and departments' use cases and the deadline jobs: domain + ports
    "casework": Layer(
        (
            "casework",
            "domain",
            "adapters.publication_log.base",
            "adapters.status_view",
            "adapters.enterprise_store",
            "adapters.casework_view",
            "pydantic",
        )
    ),
    "infra": Layer(
        (
            "infra",
            "domain",
            "adapters",
            "projections",
            "ingestion",
            "opendata",
            "casework",
            "pydantic",
            "pydantic_settings",
            "yaml",  # the AsyncAPI document
        )
    ),
    "api": Layer((ANY,)),
}

#: Pure text libraries: only `domain.names` uses them (the projections, both search engines and
#: the data generator go through it), so names are normalised, read and matched one way.
TEXT_LIBRARIES = ("pypinyin", "rapidfuzz", "opencc")

#: Top-level directories that are not layers of the application.
NOT_LAYERS = {"tests", "bench", "docs", "var", "node_modules"}


def _matches(name: str, prefix: str) -> bool:
    return prefix == ANY or name == prefix or name.startswith(prefix + ".")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path, root: Path = ROOT) -> set[str]:
    """Every module (or module.attribute, for `from m import a`) a file imports; relative
    imports resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def layer_of(module: str) -> tuple[str, Layer]:
    best = max((name for name in LAYERS if _matches(module, name)), key=len, default=None)
    if best is None:
        raise LookupError(f"{module} belongs to no layer: add its package to LAYERS")
    return best, LAYERS[best]


def allowed(name: str, layer: Layer) -> bool:
    top = name.split(".")[0]
    if top == "__future__":
        return True
    if top in sys.stdlib_module_names:
        return not any(_matches(name, denied) for denied in layer.stdlib_denied)
    return any(_matches(name, prefix) for prefix in layer.may_import)


def violations(package: str, root: Path = ROOT) -> list[str]:
    found = []
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        module = module_name(path, root)
        layer_name, layer = layer_of(module)
        for name in sorted(imported_names(path, root)):
            if not allowed(name, layer):
                found.append(f"{path.relative_to(root)} ({layer_name}) imports {name}")
    return found


def top_level_packages(root: Path = ROOT) -> list[str]:
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in NOT_LAYERS
    )


def test_every_package_is_a_layer_with_an_allow_list() -> None:
    assert [p for p in top_level_packages() if p not in LAYERS] == []
    assert set(top_level_packages()) >= {"domain", "adapters", "projections", "ingestion", "infra", "api"}


@pytest.mark.parametrize("package", [name for name in LAYERS if "." not in name])
def test_each_layer_imports_only_what_its_allow_list_names(package: str) -> None:
    assert violations(package) == []


def test_infra_never_imports_the_api() -> None:
    imports = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "infra").rglob("*.py")
        for name in imported_names(path)
        if _matches(name, "api")
    }
    assert imports == set()
    assert not any(_matches(prefix, "api") for prefix in LAYERS["infra"].may_import)


def test_text_libraries_are_allowed_in_domain_names_only() -> None:
    allowing = {
        name
        for name, layer in LAYERS.items()
        if name != "api"
        and any(_matches(lib, prefix) for lib in TEXT_LIBRARIES for prefix in layer.may_import)
    }
    assert allowing == {"domain.names"}


def test_no_layer_below_the_api_may_import_it() -> None:
    for name, layer in LAYERS.items():
        if name != "api":
            assert not any(_matches("api.app", prefix) for prefix in layer.may_import), name


# --- the check itself catches what it should --------------------------------------------------


def _plant(tmp_path: Path, module: str, source: str) -> Path:
    path = tmp_path / (module.replace(".", "/") + ".py")
    for parent in reversed(path.relative_to(tmp_path).parents):
        if str(parent) != ".":
            (tmp_path / parent).mkdir(exist_ok=True)
            (tmp_path / parent / "__init__.py").touch()
    path.write_text(source, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("infra.bad", "from api.app import create_app\n"),
        ("infra.bad", "import api\n"),
        ("domain.bad", "import os\n"),
        ("domain.bad", "from pathlib import Path\n"),
        ("domain.bad", "import fastapi\n"),
        ("domain.bad", "from adapters.search_index import sqlite\n"),
        ("domain.bad", "from eventsourcing.postgres import PostgresDatastore\n"),
        ("domain.bad", "import pypinyin\n"),
        ("domain.bad", "from ..projections import runner\n"),
        ("projections.bad", "from adapters.search_index.sqlite import SQLiteSearchIndex\n"),
        ("projections.bad", "import kafka\n"),
        ("projections.bad", "from pypinyin import lazy_pinyin\n"),
        ("adapters.bad", "from rapidfuzz import fuzz\n"),
        ("ingestion.bad", "from adapters.publication_log.kafka import KafkaLog\n"),
        ("adapters.bad", "from projections.runner import EntityProjection\n"),
        ("adapters.bad", "import somevendor\n"),
    ],
)
def test_the_check_catches_a_forbidden_import(tmp_path: Path, module: str, source: str) -> None:
    _plant(tmp_path, module, source)
    assert len(violations(module.split(".")[0], root=tmp_path)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("domain.names.fold", "import pypinyin\nfrom rapidfuzz import fuzz\n"),
        ("domain.ok", "from eventsourcing.domain import Aggregate\nimport re\n"),
        ("projections.ok", "from adapters.search_index.base import SearchIndex\n"),
        ("infra.ok", "from projections.runner import EntityProjection\n"),
        ("api.ok", "import anything_at_all\n"),
    ],
)
def test_the_check_lets_the_allowed_imports_through(tmp_path: Path, module: str, source: str) -> None:
    _plant(tmp_path, module, source)
    assert violations(module.split(".")[0], root=tmp_path) == []


def test_a_package_outside_every_layer_is_reported(tmp_path: Path) -> None:
    _plant(tmp_path, "newlayer.thing", "import os\n")
    assert top_level_packages(tmp_path) == ["newlayer"]
    with pytest.raises(LookupError, match="newlayer"):
        violations("newlayer", root=tmp_path)


def test_nothing_but_the_settings_reads_the_environment() -> None:
    readers = []
    for package in top_level_packages():
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "os.environ" in text or "os.getenv" in text:
                readers.append(str(path.relative_to(ROOT)))
    assert readers == []
