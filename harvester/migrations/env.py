"""Alembic environment: runs on the engine handed over by harvester.store.engine."""

from alembic import context

from harvester.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: read the URL from alembic.ini / -x
    from harvester.store.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url"))

# Tables that live in the store but are not ours to migrate (APScheduler's job store).
FOREIGN_TABLES = {"scheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (type_ == "table" and name in FOREIGN_TABLES)


def run_migrations(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_sqlite_migrations_atomically(connection) -> None:  # type: ignore[no-untyped-def]
    """All pending migrations and the new revision in one SQLite transaction.

    pysqlite opens a transaction only before DML, so each CREATE TABLE committed on its
    own: a process killed during the first start of a store left tables without a
    revision, and every later start failed on "table already exists".  SQLite's DDL is
    transactional when the driver keeps out of the way, and BEGIN IMMEDIATE makes a second
    process starting the same store wait for this one and then find nothing to do.
    """
    dbapi = connection.connection.dbapi_connection
    saved = dbapi.isolation_level
    dbapi.isolation_level = None  # the driver issues no BEGIN or COMMIT of its own
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            run_migrations(connection)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
    finally:
        dbapi.isolation_level = saved


with engine.connect() as connection:
    if connection.dialect.name == "sqlite":
        run_sqlite_migrations_atomically(connection)
    else:
        run_migrations(connection)
        connection.commit()
