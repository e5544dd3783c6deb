"""The indexer knows ICH records and search engines, never the harvester or the database."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from indexer import IndexingError, SearchBackend, SearchSettings, open_backend

PACKAGE = Path(__file__).resolve().parents[1] / "indexer"
FORBIDDEN = ("harvester", "sqlalchemy", "alembic", "psycopg")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_of_the_indexer_imports_the_harvester_or_the_database():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        assert not _imported_modules(path) & set(FORBIDDEN), path


def test_importing_every_backend_loads_neither_harvester_nor_sqlalchemy():
    code = ("import sys, indexer, indexer.embedded, indexer.elasticsearch;"
            f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_both_backends_satisfy_the_protocol(tmp_path):
    embedded = open_backend(SearchSettings(path=str(tmp_path / "i")))
    remote = open_backend(SearchSettings(backend="elasticsearch", url="http://127.0.0.1:9"))
    assert isinstance(embedded, SearchBackend) and isinstance(remote, SearchBackend)
    embedded.close()
    remote.close()


def test_an_unknown_backend_name_is_refused():
    with pytest.raises(IndexingError, match="unknown search backend"):
        open_backend(SearchSettings(backend="solr"))
    with pytest.raises(IndexingError, match="url"):
        open_backend(SearchSettings(backend="elasticsearch"))
