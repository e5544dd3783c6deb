"""Start-up cost: every ``ichlinks`` command opens the store, so a store already at the newest
revision must open without importing alembic (about half a second), and commands that never
talk OAI-PMH must not load the OAI client (httpx, sickle, requests).

The newest revision is read from the migration files, so these tests also hold that reading
to alembic's own answer: a new migration can never be missed.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from harvester.errors import StoreError
from harvester.store.engine import (_alembic_config, _stored_revisions, head_revision, make_engine,
                                    open_store)


def _loaded(code: str, *args: str) -> list[str]:
    """Top-level packages of interest that a fresh interpreter has imported after ``code``."""
    probe = (f"{code}\nimport json, sys\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'alembic', 'mako', "
             "'httpx', 'sickle', 'requests', 'sqlalchemy', 'yaml'})))")
    proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_head_read_from_the_files_is_alembics_head() -> None:
    engine = make_engine("sqlite://")
    try:
        expected = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    finally:
        engine.dispose()
    assert head_revision() == expected


def _write(folder: Path, name: str, header: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(f'"""{name}"""\nfrom typing import Sequence, Union\n\n{header}\n'
                               "branch_labels = None\ndepends_on = None\n\n\n"
                               "def upgrade() -> None:\n    pass\n\n\n"
                               "def downgrade() -> None:\n    pass\n", encoding="utf-8")


def test_head_reading_follows_branches_merges_and_annotations(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    _write(versions, "a.py", 'revision = "a"\ndown_revision = None')
    _write(versions, "b.py", "revision: str = 'b'\ndown_revision: Union[str, None] = 'a'")
    _write(versions, "c.py", 'revision = "c"\ndown_revision = "a"')
    _write(versions, "m.py", 'revision = "m"\ndown_revision: Union[str, Sequence[str], None] = ("b", "c")')
    (versions / "__init__.py").write_text("", encoding="utf-8")
    script = ScriptDirectory(str(tmp_path), version_locations=[str(versions)])
    assert head_revision(versions) == script.get_current_head() == "m"


def test_two_heads_or_an_unreadable_migration_is_an_error(tmp_path: Path) -> None:
    branched = tmp_path / "branched"
    _write(branched, "a.py", 'revision = "a"\ndown_revision = None')
    _write(branched, "b.py", 'revision = "b"\ndown_revision = "a"')
    _write(branched, "c.py", 'revision = "c"\ndown_revision = "a"')
    with pytest.raises(StoreError, match="2 heads"):
        head_revision(branched)
    odd = tmp_path / "odd"
    _write(odd, "a.py", 'revision = "a"\ndown_revision = None')
    _write(odd, "b.py", 'revision = make_revision()\ndown_revision = "a"')
    with pytest.raises(StoreError, match="b.py"):
        head_revision(odd)
    (odd / "b.py").write_text('"""no revision at all"""\n', encoding="utf-8")
    with pytest.raises(StoreError, match="b.py"):
        head_revision(odd)


def test_stored_revision_is_read_in_plain_sql(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        assert _stored_revisions(engine) == ()  # an empty store has no alembic_version table
    finally:
        engine.dispose()
    engine = open_store(store_url)
    try:
        assert _stored_revisions(engine) == (head_revision(),)
    finally:
        engine.dispose()


def test_a_store_at_head_opens_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    assert "alembic" in _loaded("import sys\nfrom harvester.store.engine import open_store\n"
                                "open_store(sys.argv[1]).dispose()", url)  # empty: migrated
    assert _loaded("import sys\nfrom harvester.store.engine import open_store\n"
                   "open_store(sys.argv[1]).dispose()", url) == ["sqlalchemy"]


def test_commands_without_oai_pmh_do_not_load_the_oai_client() -> None:
    # status, index status, reindex, remap and report: their modules, imported as the CLI does
    assert _loaded("import harvester.cli, harvester.status, harvester.relay, harvester.crosswalking, "
                   "harvester.runner, harvester.report") == ["sqlalchemy", "yaml"]


@pytest.mark.skipif(importlib.util.find_spec("trio") is None, reason="trio is not installed here")
def test_the_oai_client_loads_httpx_without_trio_which_stays_importable() -> None:
    """httpcore would import trio (~70 ms per start) for an async backend the harvester never uses."""
    probe = ("import sys\nfrom harvester.pipeline import run_harvest\n"
             "from harvester.oai.client import HostPools\nimport httpx\n"
             "with HostPools(user_agent='probe') as pools: pools.client_for('http://127.0.0.1:9/')\n"
             "loaded = 'trio' in sys.modules\nimport trio\n"
             "print(loaded, trio.__name__, httpx.Client.__name__)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "trio", "Client"]


def test_the_cli_itself_loads_neither_the_store_nor_the_configuration() -> None:
    assert _loaded("import harvester.cli") == []  # `ichlinks --help`, `ichlinks harvest --help`


def test_the_migrations_build_exactly_the_models_schema(store) -> None:  # type: ignore[no-untyped-def]
    """Models and migrations are written separately; alembic's own comparison holds them equal
    (a column added to a model and forgotten in its migration fails here)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from harvester.store.models import Base

    with store.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def _pragma(engine: Any, name: str) -> Any:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_a_new_sqlite_store_uses_large_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """~2 KB rows fill a 16 KB page; an existing file's page size cannot change in WAL mode,
    so a store made with 4 KB pages must keep opening and working as it is."""
    import sqlite3

    from sqlalchemy import text

    from harvester.store.engine import SQLITE_PAGE_SIZE

    engine = open_store(f"sqlite:///{tmp_path}/new.db")
    try:
        assert (_pragma(engine, "page_size"), _pragma(engine, "journal_mode")) == (SQLITE_PAGE_SIZE,
                                                                                    "wal")
    finally:
        engine.dispose()
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("PRAGMA page_size=4096")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE kept (v TEXT)")
        conn.execute("INSERT INTO kept VALUES ('written with 4 KB pages')")
    conn.close()
    engine = open_store(f"sqlite:///{old}")
    try:
        assert _pragma(engine, "page_size") == 4096
        with engine.begin() as c:
            c.execute(text("INSERT INTO kept VALUES ('and later')"))
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM kept")).scalar() == 2
            assert c.execute(text("SELECT count(*) FROM raw_records")).scalar() == 0  # migrated
    finally:
        engine.dispose()


def test_a_first_migration_cut_off_midway_leaves_a_store_that_starts_next_time(
        store_url: str) -> None:
    """A first start killed between two CREATE TABLEs must not leave tables without a
    revision (every later start then failed on "table already exists")."""
    from sqlalchemy import event, inspect

    from harvester.store.engine import migrate

    engine = make_engine(store_url)

    def cut_off(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("CREATE TABLE PAGE_MEMOS"):
            raise RuntimeError("process cut off during migration 0005")

    event.listen(engine, "before_cursor_execute", cut_off)
    try:
        with pytest.raises(RuntimeError, match="cut off"):
            migrate(engine)
        event.remove(engine, "before_cursor_execute", cut_off)
        with engine.connect() as conn:
            assert "checkpoints" not in inspect(conn).get_table_names(), \
                "tables of the cut-off migration were kept without their revision"
        migrate(engine)
        assert _stored_revisions(engine) == (head_revision(),)
    finally:
        engine.dispose()


def test_a_store_with_tables_but_no_revision_is_refused_with_what_to_do(store_url: str) -> None:
    """What an older version left after a cut-off first start: named, not "already exists"."""
    from harvester.store.models import Base

    engine = make_engine(store_url)
    try:
        Base.metadata.tables["checkpoints"].create(engine)
        with pytest.raises(StoreError, match=r"has tables \(checkpoints\) but no schema revision.*"
                                             r"delete it and start again"):
            open_store(store_url)
        assert _stored_revisions(engine) == ()
    finally:
        engine.dispose()
