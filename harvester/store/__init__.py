"""The record store: SQLAlchemy models, Alembic migrations, and the units of work on them."""

from harvester.store.engine import make_engine, migrate, open_store

__all__ = ["make_engine", "migrate", "open_store"]
