"""PostgreSQL plans from statistics: a harvest that grows a table from empty refreshes them.

Without this the planner took the keyset index for identifier lookups and read the whole
source for every page (a 50,000-record unchanged re-harvest took 133 s instead of 4 s).
"""

from __future__ import annotations

import time
from typing import Any

from oai_fixtures import make_records
from reliability_fixtures import harvest, source_for
from sqlalchemy import text

from harvester.store.engine import open_store
from harvester.store.statistics import GrowthAnalyzer

LOOKUP = ("EXPLAIN SELECT id, sha256 FROM raw_records WHERE source = 'rel-src' "
          "AND metadata_prefix = 'oai_dc' AND identifier IN ('a', 'b', 'c')")


def _analyzed(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: count for name, count in conn.execute(text(
            "SELECT relname, analyze_count + autoanalyze_count FROM pg_stat_user_tables "
            "WHERE relid IN ('raw_records'::regclass, 'ich_records'::regclass, 'outbox'::regclass)"))}


def _settle(engine: Any) -> dict[str, int]:
    """The counters once they stop moving (PostgreSQL publishes them within a second)."""
    last = _analyzed(engine)
    for _ in range(30):
        time.sleep(0.1)
        now = _analyzed(engine)
        if now == last and _modified(engine) is not None:
            return now
        last = now
    return last


def _modified(engine: Any) -> int | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT n_mod_since_analyze FROM pg_stat_user_tables "
                                 "WHERE relid = 'raw_records'::regclass")).scalar()


def test_harvest_analyzes_what_it_grew_and_lookups_use_the_unique_index(pg_url: str,
                                                                       oai_server: Any) -> None:
    engine = open_store(pg_url)
    try:
        server = oai_server(make_records(2500), page_size=250)
        assert _analyzed(engine)["raw_records"] == 0
        assert harvest(engine, source_for(server)).new == 2500
        assert _analyzed(engine)["raw_records"] >= 2, "at 1,000 and 2,000 rows, and at the end"
        with engine.connect() as conn:
            plan = "\n".join(row[0] for row in conn.execute(text(LOOKUP)))
        assert "uq_raw_records_key" in plan, plan
    finally:
        engine.dispose()


def test_stale_statistics_are_refreshed_before_a_run(pg_url: str) -> None:
    engine = open_store(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO raw_records (source, metadata_prefix, identifier, sets, deleted, sha256, "
                "xml, first_seen_at, updated_at, seen_epoch) SELECT 's', 'oai_dc', 'id' || g, '[]', "
                "false, 'x', '<record/>', now(), now(), 0 FROM generate_series(1, 3000) g"))
            conn.execute(text("SELECT pg_stat_force_next_flush()"))  # counters land at commit
        _settle(engine)
        before = _analyzed(engine)["raw_records"]
        GrowthAnalyzer(engine).start()
        assert _settle(engine)["raw_records"] == before + 1
        GrowthAnalyzer(engine).start()  # fresh now: nothing to do
        assert _settle(engine)["raw_records"] == before + 1
    finally:
        engine.dispose()


def test_analyzer_is_inert_on_sqlite(tmp_path: Any) -> None:
    engine = open_store(f"sqlite:///{tmp_path}/s.db")
    analyzer = GrowthAnalyzer(engine, first=1)
    analyzer.wrote(10)
    analyzer.start()
    analyzer.finish()
    assert analyzer.runs == 0 and not analyzer.enabled
    engine.dispose()
