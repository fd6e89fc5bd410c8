"""The dependency direction of design.md, checked from the source (imports followed
transitively through our own packages), independently of import-linter's configuration.

- ledger's pure modules import the standard library, nacl and rfc8785 only (and each other);
- verify/ imports no service, seal-making or database code;
- ledger/ imports nothing from seals/, verify/ or api/; seals/ nothing from api/ or verify/.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("ledger", "seals", "verify", "api")
PURE = [
    "ledger.envelope",
    "ledger.signing",
    "ledger.jcs",
    "ledger.violations",
    "ledger.state",
    "ledger.directory",
    "ledger.policy",
    "ledger.merkle",
    "ledger.checkpoint",
    "ledger.note",
    "ledger.receipt",
    "ledger.errors",
    "ledger.trust",
]
PURE_THIRD_PARTY = {"nacl", "rfc8785"}
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


@pytest.mark.parametrize("module", [m for m in PURE if module_file(m)])
def test_pure_ledger_modules_import_only_stdlib_nacl_rfc8785(module: str) -> None:
    outside = {
        name
        for name in closure(module)
        if top(name) not in sys.stdlib_module_names
        and top(name) not in PURE_THIRD_PARTY
        and not (top(name) == "ledger" and (name in PURE or name == "ledger"))
        and top(name) != "__future__"
    }
    assert outside == set()


@pytest.mark.parametrize("module", modules_of("verify"))
def test_the_verifier_imports_no_service_seal_making_or_database_code(module: str) -> None:
    banned = {
        name
        for name in closure(module)
        if top(name) in {"api", "seals", "httpx", *DATABASE}
        or name in {"ledger.application", "ledger.storage", "ledger.log_store", "ledger.audit"}
        or name.startswith("ledger.read_models")
    }
    assert banned == set()


@pytest.mark.parametrize("module", modules_of("ledger"))
def test_the_ledger_does_not_depend_on_seals_verify_or_api(module: str) -> None:
    assert {n for n in direct_imports(module) if top(n) in {"seals", "verify", "api"}} == set()


@pytest.mark.parametrize("module", modules_of("seals"))
def test_seals_do_not_depend_on_the_service_or_the_verifier(module: str) -> None:
    assert {n for n in direct_imports(module) if top(n) in {"api", "verify"}} == set()


def test_the_checker_sees_imports() -> None:
    # Guard against a checker that passes because it reads nothing.
    assert "ledger.jcs" in closure("ledger.envelope")
    assert "nacl.signing" in closure("ledger.signing")
    assert "eventsourcing.application" in closure("ledger.application")
