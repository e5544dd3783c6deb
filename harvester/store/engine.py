"""Open the store: one engine per process, migrated to the current schema.

SQLite is the laptop default and PostgreSQL the production store; the differences live
here (WAL and a busy timeout for SQLite so concurrent source threads and a reader such as
``ichlinks serve`` can share the file) and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from harvester.errors import ConfigError, StoreError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_LOCK = 0x1C411A5  # any constant: the advisory lock id for schema migrations


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
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


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent, safe to run on every start).

    Two processes starting on a fresh store at once (two schedulers, a harvest and the web
    service) must not both create the tables: PostgreSQL serialises them with an advisory
    lock; on SQLite the loser of the race sees the winner's revision and carries on.
    """
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    try:
        if _current_revision(engine) == head:
            return
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
        raise StoreError(f"cannot reach the store {engine.url.render_as_string()}: "
                         f"{exc.orig or exc}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store {engine.url.render_as_string()}: {exc}") from exc


def open_store(url: str) -> Engine:
    """An engine on a migrated store."""
    engine = make_engine(url)
    migrate(engine)
    return engine
