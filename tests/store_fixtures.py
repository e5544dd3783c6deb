"""Store fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL tests get a schema of their own (dropped afterwards) in the database named by
ICHLINKS_TEST_PG_URL (default: the local server's ``test`` database).  When the server is
unreachable they skip — unless ICHLINKS_REQUIRE_PG=1 (set by .ci/run), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("ICHLINKS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_or_skip() -> None:
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any connection failure
        message = f"PostgreSQL at {PG_URL} unreachable: {exc}"
        if os.environ.get("ICHLINKS_REQUIRE_PG") == "1":
            pytest.fail(message + " (ICHLINKS_REQUIRE_PG=1: PostgreSQL tests must run)")
        pytest.skip(message)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, private schema."""
    _pg_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh, empty store URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/store.db"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str):  # type: ignore[no-untyped-def]
    """A migrated engine on the fresh store."""
    from harvester.store.engine import open_store

    engine = open_store(store_url)
    yield engine
    engine.dispose()
