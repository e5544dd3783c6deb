"""Overdue sources: two scheduled runs in a row without a successful harvest.

The rule is checked on fixed clocks; the command (``ichlinks status --overdue``) on real
harvests from a provider over HTTP that fails and then recovers, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from cli_support import ichlinks, write_config
from oai_fixtures import make_records, status

from harvester.config import Schedule
from harvester.scheduling.overdue import overdue, recent_fire_times
from harvester.scheduling.triggers import cron_trigger

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # a Monday
DAILY = Schedule(cron="0 2 * * *")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize("cron, expected", [
    ("0 2 * * *", [at(6, 2), at(7, 2)]),
    ("0 14 * * *", [at(6, 14), at(7, 14)]),  # a firing exactly now counts
    ("30 3 * * 0", [datetime(2026, 11, 29, 3, 30, tzinfo=UTC), at(6, 3, 30)]),  # crontab's Sunday
    ("*/15 * * * *", [at(7, 13, 45), at(7, 14)]),
    ("0 0 1 1 *", [datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)]),
])
def test_recent_fire_times(cron: str, expected: list[datetime]) -> None:
    assert recent_fire_times(cron, NOW) == expected


@settings(max_examples=60, deadline=None)
@given(cron=st.sampled_from(["* * * * *", "5 * * * *", "0 2 * * *", "0 3 * * 1-5", "0 0 1 * *",
                             "45 23 * * 6", "0 12 29 2 *"]),
       offset_min=st.integers(min_value=0, max_value=60 * 24 * 366))
def test_recent_fire_times_are_the_last_two_firings(cron: str, offset_min: int) -> None:
    now = NOW + timedelta(minutes=offset_min)
    first, last = recent_fire_times(cron, now)
    trigger = cron_trigger(cron)
    assert first < last <= now
    assert trigger.get_next_fire_time(first, first + timedelta(microseconds=1)) == last
    assert trigger.get_next_fire_time(last, last + timedelta(microseconds=1)) > now


@pytest.mark.parametrize("last_success, first_run, late", [
    (at(7, 2, 40), at(1, 2), False),     # last night's run succeeded
    (at(6, 2, 40), at(1, 2), False),     # one missed night is not yet overdue
    (at(6, 2, 0), at(1, 2), False),      # ended exactly at the earlier due time
    (at(6, 1, 59), at(1, 2), True),      # both nights failed
    (None, at(6, 3), False),             # new source, tried for less than two runs
    (None, at(6, 1), True),              # tried for two runs, never succeeded
])
def test_a_daily_source_is_overdue_after_two_runs_without_success(
        last_success: datetime | None, first_run: datetime, late: bool) -> None:
    found = overdue(DAILY, last_success, first_run, NOW)
    assert (found is not None) == late
    if found is not None:
        assert found.since == at(6, 2)
        assert ("never harvested" in found.reason) == (last_success is None)


def test_interval_schedules_allow_two_intervals_and_the_jitter() -> None:
    every_hour = Schedule(interval_s=3600, jitter_s=600)
    limit = NOW - timedelta(hours=2, minutes=10)
    assert overdue(every_hour, limit, at(1, 0), NOW) is None
    assert overdue(every_hour, limit - timedelta(seconds=1), at(1, 0), NOW) is not None


def test_unscheduled_and_never_run_sources_are_never_overdue() -> None:
    assert overdue(None, None, at(1, 0), NOW) is None
    assert overdue(DAILY, None, None, NOW) is None


def test_status_overdue_follows_real_harvests(store_url: str, oai_server: Any, tmp_path: Path) -> None:
    # Every ListRecords of the first harvest fails (both tries); then the server recovers.
    server = oai_server(make_records(5), faults=[status(500, verb="ListRecords", times=2)])
    cfg = write_config(tmp_path, store_url, {
        "flaky": {"url": server.base_url, "schedule": {"interval": "1s", "jitter_s": 0}},
        "quiet": {"url": server.base_url, "schedule": {"cron": "* * * * *"}},  # never harvested
    })
    assert ichlinks("harvest", "flaky", cfg=cfg).returncode == 1
    time.sleep(2.2)  # two intervals pass with only the failed run
    late = ichlinks("status", "--overdue", cfg=cfg)
    assert late.returncode == 1
    assert "flaky" in late.stdout and "OVERDUE: never harvested successfully" in late.stdout
    assert "quiet" not in late.stdout  # never run: new, not overdue
    rows = {r["source"]: r for r in json.loads(ichlinks("status", "--json", cfg=cfg).stdout)}
    assert rows["flaky"]["overdue"]["reason"].startswith("never harvested successfully")
    assert rows["flaky"]["last_success_at"] is None and rows["quiet"]["overdue"] is None
    assert rows["quiet"]["schedule"].startswith("cron '* * * * *' UTC")

    assert ichlinks("harvest", "flaky", cfg=cfg).returncode == 0
    on_time = ichlinks("status", "--overdue", "--json", cfg=cfg)
    assert on_time.returncode == 0 and json.loads(on_time.stdout) == []
    time.sleep(2.2)
    again = json.loads(ichlinks("status", "--json", cfg=cfg).stdout)
    flaky = next(r for r in again if r["source"] == "flaky")
    assert flaky["last_success_at"] is not None
    assert flaky["overdue"]["reason"].startswith("no successful harvest since")
