"""The dependency direction of design.md, checked from the source (imports followed
transitively through our own packages), independently of import-linter's configuration.

- the pure domain (ledger/ less ledger/store/) imports the standard library, nacl, rfc8785 and
  chinese_calendar only (and itself);
- verify/ imports no service, command line, seal-making or database code;
- ledger/ imports nothing from seals/, verify/, api/ or cli/; seals/ only the pure domain;
  api/ nothing from cli/.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("ledger", "seals", "verify", "api", "cli")
STORE = "ledger.store"


def is_pure(name: str) -> bool:
    """The pure domain is the ledger folder less its storage side (ledger/store/)."""
    return top(name) == "ledger" and not (name == STORE or name.startswith(STORE + "."))


PURE_THIRD_PARTY = {"nacl", "rfc8785", "chinese_calendar"}
DATABASE = {"eventsourcing", "sqlalchemy", "psycopg", "sqlite3", "alembic"}


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def direct_imports(module: str) -> frozenset[str]:
    """Absolute names imported by ``module``'s source, wherever in the file they appear."""
    path = module_file(module)
    if path is None:
        return frozenset()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                stem = f"{base}.{node.module}" if node.module else base
            else:
                stem = node.module or ""
            names.add(stem)
            # ``from ledger import jcs`` imports the module ledger.jcs.
            names.update(f"{stem}.{a.name}" for a in node.names if module_file(f"{stem}.{a.name}"))
    return frozenset(names)


def closure(module: str) -> set[str]:
    """Everything ``module`` imports, following imports through our own packages."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        for name in direct_imports(todo.pop()):
            if name not in seen:
                seen.add(name)
                if name.split(".")[0] in OURS:
                    todo.append(name)
    return seen


def modules_of(package: str) -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / package).rglob("*.py")
    )


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("module", [m for m in modules_of("ledger") if is_pure(m)])
def test_pure_ledger_modules_import_only_stdlib_nacl_rfc8785(module: str) -> None:
    outside = {
        name
        for name in closure(module)
        if top(name) not in sys.stdlib_module_names
        and top(name) not in PURE_THIRD_PARTY
        and not is_pure(name)
        and top(name) != "__future__"
    }
    assert outside == set()


@pytest.mark.parametrize("module", modules_of("verify"))
def test_the_verifier_imports_no_service_seal_making_or_database_code(module: str) -> None:
    banned = {
        name
        for name in closure(module)
        if top(name) in {"api", "cli", "seals", "httpx", *DATABASE}
        or (top(name) == "ledger" and not is_pure(name))
    }
    assert banned == set()


@pytest.mark.parametrize("module", modules_of("ledger"))
def test_the_ledger_does_not_depend_on_seals_verify_api_or_cli(module: str) -> None:
    outward = {"seals", "verify", "api", "cli"}
    assert {n for n in direct_imports(module) if top(n) in outward} == set()


@pytest.mark.parametrize("module", modules_of("seals"))
def test_seals_depend_on_the_pure_ledger_only(module: str) -> None:
    banned = {n for n in closure(module) if top(n) in {"api", "cli", "verify"}}
    banned |= {n for n in closure(module) if top(n) == "ledger" and not is_pure(n)}
    assert banned == set()


@pytest.mark.parametrize("module", modules_of("api"))
def test_the_service_does_not_depend_on_the_command_line(module: str) -> None:
    assert {n for n in direct_imports(module) if top(n) == "cli"} == set()


def test_the_checker_sees_imports() -> None:
    # Guard against a checker that passes because it reads nothing.
    assert "ledger.jcs" in closure("ledger.envelope")
    assert "nacl.signing" in closure("ledger.signing")
    assert "eventsourcing.application" in closure("ledger.store.application")
