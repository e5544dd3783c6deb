"""Open the store: one engine per process, migrated to the current schema.

SQLite is the laptop default and PostgreSQL the production store; the differences live
here (WAL and a busy timeout for SQLite so concurrent source threads and a reader such as
``ichlinks serve`` can share the file) and nowhere else.

Alembic is imported only when a migration must run: importing it costs about half a second,
and every ``ichlinks`` command opens the store.  The common case, a store already at the
newest revision, is decided by reading the migration files and the ``alembic_version`` row.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from harvester.errors import ConfigError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK = 0x1C411A5  # any constant: the advisory lock id for schema migrations
# A module-level `revision = "..."` / `down_revision = ...` (optionally annotated) in a migration.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


# Raw XML and ICH JSON rows are ~2 KB each: a 4 KB page held one of them and left a third
# of the file empty.  Only a new, empty database takes it (WAL fixes the size after that).
SQLITE_PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine for a store URL; SQLite files get their folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r}", key="store") from exc
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:" and not db.startswith("file:"):
            folder = Path(db).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file in the way, a read-only disk: say so, no traceback
                raise StoreError(f"cannot create the store's folder {folder}: {exc}") from exc
        engine = create_engine(parsed, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=10)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"cannot use database URL {parsed.render_as_string()!r}: {exc}",
                          key="store") from exc


@cache
def head_revision(versions: Path = MIGRATIONS / "versions") -> str:
    """The newest migration, read from the files themselves instead of through alembic.

    The head is the one revision no file names as its ``down_revision``; the files are
    chosen as alembic chooses them (``*.py`` but ``__init__`` and editor lock files), and
    a file whose revision cannot be read is an error rather than a migration skipped.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        if path.name.startswith(("__init__", ".#")):
            continue
        found: dict[str, Any] = {}
        try:
            for key, value in _REVISION_LINE.findall(path.read_text("utf-8")):
                found.setdefault(key, ast.literal_eval(value))
        except (ValueError, SyntaxError):  # not a literal: alembic would run the file, we cannot
            found.clear()
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str) or "down_revision" not in found:
            raise StoreError(f"cannot read the revision of migration {path.name}")
        revisions.add(revision)
        parents.update((down,) if isinstance(down, str) else down or ())
    heads = revisions - parents
    if len(heads) != 1:
        raise StoreError(f"the migrations in {versions} have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def _stored_revisions(engine: Engine) -> tuple[str, ...]:
    """The store's ``alembic_version`` rows in plain SQL; () for an empty store."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return ()
        return tuple(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _refuse_tables_without_revision(engine: Engine) -> None:
    """A store with our tables but no revision cannot be migrated: no one knows its schema.

    Versions before SQLite migrations ran in one transaction left this behind when a first
    start was killed midway; alembic would only fail on "table already exists".  The
    revision is read again *after* the tables: another process that has just migrated the
    store committed both at once, so it is seen here and the store is not refused.
    """
    from harvester.store.models import Base

    with engine.connect() as conn:
        ours = sorted(set(inspect(conn).get_table_names()) & set(Base.metadata.tables))
    if ours and not _stored_revisions(engine):
        raise StoreError(
            f"the store {engine.url.render_as_string()} has tables ({', '.join(ours[:3])}"
            f"{', ...' if len(ours) > 3 else ''}) but no schema revision, so it cannot be migrated "
            "safely (an older ichLinks Harvester left this when its first start was cut off "
            "midway). If it holds no harvest yet, delete it and start again")


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent, safe to run on every start).

    Two processes starting on a fresh store at once (two schedulers, a harvest and the web
    service) must not both create the tables: PostgreSQL serialises them with an advisory
    lock; on SQLite the loser of the race sees the winner's revision and carries on.
    """
    head = head_revision()
    try:
        stored = _stored_revisions(engine)
        if stored == (head,):
            return
        if not stored:
            _refuse_tables_without_revision(engine)
        from alembic import command

        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
                try:
                    if _current_revision(engine) != head:
                        command.upgrade(_alembic_config(engine), "head")
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                    conn.commit()
            return
        try:
            command.upgrade(_alembic_config(engine), "head")
        except OperationalError:
            if _current_revision(engine) != head:
                raise
    except OperationalError as exc:
        raise StoreError(f"cannot open the store {engine.url.render_as_string()}: "
                         f"{exc.orig or exc}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store {engine.url.render_as_string()}: {exc}") from exc


def open_store(url: str) -> Engine:
    """An engine on a migrated store."""
    engine = make_engine(url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()  # a refused store leaves no connection open behind the error
        raise
    return engine
