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


with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
