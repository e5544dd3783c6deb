"""Imports run one way: mappings and indexer never reach into the harvester, the store or the network.

The harvester is the application shell that wires the stages; a crosswalk that imported
SQLAlchemy or httpx would no longer be a pure function of its raw record.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = {
    "mappings": {"harvester", "indexer", "sqlalchemy", "alembic", "psycopg", "httpx", "requests",
                 "sickle", "fastapi", "apscheduler"},
    "indexer": {"harvester", "mappings", "sqlalchemy", "alembic", "psycopg", "fastapi",
                "apscheduler"},
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_stay_in_their_lane(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert len(files) > 5, f"no modules found under {package}/"
    offenders = {str(p.relative_to(ROOT)): sorted(imported(p) & RULES[package]) for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}
