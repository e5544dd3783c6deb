"""Planner statistics for tables that a harvest grows quickly (PostgreSQL).

PostgreSQL plans queries from its table statistics.  A table that grew from empty to 50,000
rows within one harvest still looks empty until ANALYZE runs, and the planner then answers
"these 100 identifiers of this source" from the keyset index (source, prefix, id), reading the
whole source for every page: measured at 100-200 ms a page at 50,000 records, a harvest that
gets slower with every page.  Autovacuum analyzes eventually, or never when it is off, so the
harvest analyzes the tables it grows itself, each time the rows it has written double
(1,000, 2,000, 4,000, ...): a handful of ANALYZE runs however large the repository.  SQLite's
planner prefers the unique index without statistics, so nothing is done there.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger("ichlinks.store")

# Grown by the harvest (raw records) and, behind it, by the crosswalk (ICH records, outbox).
GROWING_TABLES = ("raw_records", "ich_records", "outbox")
FIRST_ANALYZE_AT = 1000
# Rows changed since the last ANALYZE, as a share of the live rows, that call for a new one.
STALE_FRACTION = 0.2


class GrowthAnalyzer:
    """Counts rows written and runs ANALYZE at every doubling; does nothing off PostgreSQL."""

    def __init__(self, engine: Engine, *, first: int = FIRST_ANALYZE_AT) -> None:
        self.engine = engine
        self.enabled = engine.dialect.name == "postgresql"
        self.written = 0
        self.next_at = first
        self.runs = 0

    def wrote(self, rows: int) -> None:
        if not self.enabled or rows <= 0:
            return
        self.written += rows
        if self.written >= self.next_at:
            self.next_at = self.written * 2
            self.analyze()

    def start(self) -> None:
        """Before a run: analyze if the tables changed much since their last ANALYZE (a store
        loaded by an earlier version, or with autovacuum off), as an unchanged re-harvest
        writes nothing that would trigger it later."""
        if not self.enabled:
            return
        regclasses = ", ".join(f"'{name}'::regclass" for name in GROWING_TABLES)
        try:
            with self.engine.connect() as conn:
                changed, live = conn.execute(text(
                    "SELECT coalesce(sum(n_mod_since_analyze), 0), coalesce(sum(n_live_tup), 0) "
                    f"FROM pg_stat_user_tables WHERE relid IN ({regclasses})")).one()
        except SQLAlchemyError as exc:
            log.debug("table statistics not readable: %s", exc)
            return
        if int(changed) > STALE_FRACTION * int(live) + FIRST_ANALYZE_AT:
            self.analyze()

    def finish(self) -> None:
        """After a run that wrote rows: fresh statistics for the crosswalk, relay and next run."""
        if self.enabled and self.written:
            self.analyze()

    def analyze(self) -> None:
        started = time.monotonic()
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("ANALYZE " + ", ".join(GROWING_TABLES)))
        except SQLAlchemyError as exc:  # statistics are an optimisation, never a failure
            log.warning("ANALYZE %s failed (queries may be slow until autovacuum runs): %s",
                        ", ".join(GROWING_TABLES), exc)
            return
        self.runs += 1
        log.debug("analyzed %s after %d rows written (%.2fs)", ", ".join(GROWING_TABLES),
                  self.written, time.monotonic() - started)
