"""The catalogue of reason codes: every code the domain gives a publication it rejects, and every
code of an error it raises, with its Chinese message(s) and where it comes from — read from the
source of `domain/`, so it cannot drift from the code.

`python -m infra.reasons --write` rewrites the generated part of docs/EVENTS.md (between the
markers below); so does `python -m infra.schemas --write` (`make schemas`). A test fails when the
committed file is not current.

What counts, found by parsing every module under domain/ (nothing is listed by hand):
- each module-level constant `REASON_* = "code"`, used or not;
- each call that passes `code=<a REASON_* constant>` (the registry's `Outcome("rejected", ...)`),
  with its `message=`;
- each call of a DomainError subclass (directly, or through a function that returns one built
  from its argument, like `_fail(message)` in uscc.py): its `code=` or the class's own `code`, and
  its message (the first argument, or the message the class's `__init__` passes up).
A message built at run time is shown as its template: `{expression}` stands for the value. A
message taken from a variable is followed to the function that produced it (its returned
templates), or to the error it was caught from.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "domain"
EVENTS_MD = ROOT / "docs" / "EVENTS.md"
BEGIN = (
    "<!-- BEGIN reason codes: generated from domain/ by `python -m infra.reasons --write`; do not edit -->"
)
END = "<!-- END reason codes -->"
ERROR_BASE = "DomainError"


@dataclass(frozen=True)
class Site:
    """One place that gives a code: who raises it, where, with which message templates."""

    raised_as: str  # "rejection" (an Outcome-like call with code=REASON_*) or the error class
    where: str  # "domain/registry.py: Registry._validate"
    messages: tuple[str, ...]


@dataclass
class Code:
    code: str
    constant: str | None = None  # "domain/publications.py: REASON_MALFORMED"
    sites: list[Site] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return list(dict.fromkeys(m for s in self.sites for m in s.messages))


# --- reading domain/ --------------------------------------------------------------------------------


@dataclass
class _ErrorClass:
    name: str
    bases: list[str]
    code: str | None
    message: list[str] | None  # what its __init__ passes to super().__init__, if it has one


@dataclass
class _Source:
    """Every module of the domain, parsed, and what the catalogue needs to know across them."""

    modules: dict[str, ast.Module]
    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)  # constant → (code, module)
    errors: dict[str, _ErrorClass] = field(default_factory=dict)
    factories: dict[str, tuple[str, int]] = field(default_factory=dict)  # function → (class, arg)
    returns: dict[str, list[str]] = field(default_factory=dict)  # function → returned templates


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _template(node: ast.expr) -> str | None:
    """A string literal or f-string as text, `{expression}` for each placeholder."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append("{" + ast.unparse(value.value) + "}")
        return "".join(parts)
    return None


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef]]:
    """Every function and method with its qualified name."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield f"{prefix}{node.name}", node  # type: ignore[misc]
            yield from _functions(node, f"{prefix}{node.name}.")


def _read(domain: Path) -> _Source:
    root = domain.parent
    modules = {
        path.relative_to(root).as_posix(): ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(domain.rglob("*.py"))
    }
    source = _Source(modules)
    classes: dict[str, _ErrorClass] = {}
    for module, tree in modules.items():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.startswith("REASON_")
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                source.reasons[node.targets[0].id] = (node.value.value, module)
        for found in ast.walk(tree):
            if isinstance(found, ast.ClassDef):
                bases = [b for b in map(_name, found.bases) if b]
                classes[found.name] = _ErrorClass(found.name, bases, _class_code(found), _init_message(found))
    # the DomainError family, however deep
    family = {ERROR_BASE} if ERROR_BASE in classes else set()
    while grown := {n for n, c in classes.items() if n not in family and set(c.bases) & family}:
        family |= grown
    for name in family:
        source.errors[name] = classes[name]
    for cls in source.errors.values():
        if cls.code is None:
            cls.code = _inherited_code(cls, source.errors)
    for tree in modules.values():
        for qualname, function in _functions(tree):
            simple = qualname.rpartition(".")[2]
            params = [a.arg for a in function.args.args]
            for returned in ast.walk(function):
                if not isinstance(returned, ast.Return) or returned.value is None:
                    continue
                text = _template(returned.value)
                if text is not None:
                    source.returns.setdefault(simple, []).append(text)
                value = returned.value
                if (
                    isinstance(value, ast.Call)
                    and _name(value.func) in source.errors
                    and value.args
                    and isinstance(value.args[0], ast.Name)
                    and value.args[0].id in params
                ):
                    source.factories[simple] = (str(_name(value.func)), params.index(value.args[0].id))
    return source


def _class_code(node: ast.ClassDef) -> str | None:
    for stmt in node.body:
        target = (
            stmt.targets[0]
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            else stmt.target
            if isinstance(stmt, ast.AnnAssign)
            else None
        )
        value = getattr(stmt, "value", None)
        if (
            isinstance(target, ast.Name)
            and target.id == "code"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            return value.value
    return None


def _init_message(node: ast.ClassDef) -> list[str] | None:
    """The message an error class's own __init__ passes to super().__init__ (first argument)."""
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
            for call in ast.walk(stmt):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "__init__"
                    and isinstance(call.func.value, ast.Call)
                    and _name(call.func.value.func) == "super"
                    and call.args
                ):
                    text = _template(call.args[0])
                    return [text] if text is not None else None
    return None


def _inherited_code(cls: _ErrorClass, errors: dict[str, _ErrorClass]) -> str | None:
    for base in cls.bases:
        if base in errors:
            found = errors[base].code or _inherited_code(errors[base], errors)
            if found:
                return found
    return None


# --- the sites ----------------------------------------------------------------------------------------


def _messages(node: ast.expr | None, function: ast.AST, source: _Source) -> tuple[str, ...]:
    """What a message expression says: its template, or where the text comes from."""
    if node is None:
        return ()
    text = _template(node)
    if text is not None:
        return (text,)
    if isinstance(node, ast.Name):  # a variable: the function whose result it holds
        for stmt in ast.walk(function):
            if (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets)
                and isinstance(stmt.value, ast.Call)
            ):
                called = _name(stmt.value.func)
                if called in source.returns:
                    return tuple(source.returns[called])
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):  # err.message
        for handler in ast.walk(function):
            if isinstance(handler, ast.ExceptHandler) and handler.name == node.value.id and handler.type:
                caught = _name(handler.type)
                if caught in source.errors:
                    return (f"(the message of the {caught} it caught: `{source.errors[caught].code}`)",)
    return (f"`{ast.unparse(node)}`",)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _reason(node: ast.expr | None, source: _Source) -> str | None:
    name = _name(node) if node is not None else None
    return source.reasons[name][0] if name in source.reasons else None


def catalogue(domain: Path = DOMAIN) -> list[Code]:
    """Every code found in `domain`: REASON_* constants first (in the order they are defined),
    then the other codes alphabetically."""
    source = _read(domain)
    codes: dict[str, Code] = {}
    for constant, (code, module) in source.reasons.items():
        codes.setdefault(code, Code(code)).constant = f"{module}: {constant}"
    for module, tree in source.modules.items():
        for qualname, function in _functions(tree):
            for call in _own_calls(function):
                if not _builds_from_argument(call, qualname, source):
                    site = _site(call, function, source, f"{module}: {qualname}")
                    if site is not None:
                        code, found = site
                        entry = codes.setdefault(code, Code(code))
                        if found not in entry.sites:
                            entry.sites.append(found)
    order = list(dict.fromkeys(code for code, _ in source.reasons.values()))
    rest = sorted(code for code in codes if code not in order)
    return [codes[code] for code in [*order, *rest]]


def _own_calls(function: ast.AST) -> list[ast.Call]:
    """The calls in a function's own body (not in functions or classes defined inside it), in
    source order."""
    calls, todo = [], list(ast.iter_child_nodes(function))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return sorted(calls, key=lambda c: (c.lineno, c.col_offset))


def _builds_from_argument(call: ast.Call, qualname: str, source: _Source) -> bool:
    """The error a factory (`_fail(message)`) builds from its argument: its callers are the sites."""
    factory = source.factories.get(qualname.rpartition(".")[2])
    return factory is not None and _name(call.func) == factory[0]


def _site(call: ast.Call, function: ast.AST, source: _Source, where: str) -> tuple[str, Site] | None:
    callee = _name(call.func)
    if callee in source.errors:
        cls = source.errors[callee]
        code_node = _keyword(call, "code")
        code = _reason(code_node, source) or (
            code_node.value
            if isinstance(code_node, ast.Constant) and isinstance(code_node.value, str)
            else cls.code
        )
        if code is None:
            return None
        messages = (
            tuple(cls.message)
            if cls.message is not None
            else _messages(call.args[0] if call.args else _keyword(call, "message"), function, source)
        )
        return code, Site(callee, where, messages)
    if callee in source.factories:
        name, index = source.factories[callee]
        cls = source.errors[name]
        if cls.code is None or len(call.args) <= index:
            return None
        return cls.code, Site(name, where, _messages(call.args[index], function, source))
    code = _reason(_keyword(call, "code"), source)
    if code is not None:
        return code, Site("rejection", where, _messages(_keyword(call, "message"), function, source))
    return None


# --- docs/EVENTS.md -------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(codes: list[Code]) -> str:
    lines = [
        "| code | message (Chinese; `{…}` is filled in) | raised as | where |",
        "|---|---|---|---|",
    ]
    for c in codes:
        raised = list(dict.fromkeys(s.raised_as for s in c.sites))
        where = list(dict.fromkeys(s.where for s in c.sites))
        if c.constant:
            where.insert(0, f"{c.constant} (defined)")
        messages = c.messages or ["— (no place in domain/ gives this code)"]
        lines.append(
            f"| `{c.code}` | {'<br>'.join(_cell(m) for m in messages)} "
            f"| {', '.join(f'`{r}`' for r in raised) or '—'} "
            f"| {'<br>'.join(f'`{_cell(w)}`' for w in where)} |"
        )
    return "\n".join(lines) + "\n"


def render(text: str, domain: Path = DOMAIN) -> str:
    """`text` (docs/EVENTS.md) with the part between the markers generated afresh."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"docs/EVENTS.md lacks the markers {BEGIN!r} … {END!r}")
    return text[: start + len(BEGIN)] + "\n" + table(catalogue(domain)) + text[end:]


def rendered() -> str:
    return render(EVENTS_MD.read_text(encoding="utf-8"))


def write() -> Path:
    EVENTS_MD.write_text(rendered(), encoding="utf-8")
    return EVENTS_MD


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the table in docs/EVENTS.md")
    args = parser.parse_args()
    if args.write:
        print(write())
        return
    current = EVENTS_MD.read_text(encoding="utf-8") == rendered()
    print("docs/EVENTS.md is current" if current else "docs/EVENTS.md is stale: run `make schemas`")
    raise SystemExit(0 if current else 1)


if __name__ == "__main__":
    main()
