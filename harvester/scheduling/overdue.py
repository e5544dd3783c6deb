"""Whether a scheduled source has gone without a successful harvest for too long.

A network of partner repositories fails quietly: a server moves, a certificate expires, a
scheduler host is rebuilt without its service, and the aggregate slowly goes stale.  One
missed run can be a busy night; two scheduled runs in a row without a success is something
an operator must look at.  Scheduled times are computed without jitter, and a run that
started late (jitter, a long queue) still ends after its scheduled time, so it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from harvester.config import Schedule

MISSED_RUNS = 2
_LOOKBACK_START = timedelta(hours=2)
_LOOKBACK_MAX = timedelta(days=3660)  # a leap-day cron fires twice in eight years


@dataclass(frozen=True)
class Overdue:
    """Why a source is overdue: the scheduled time since which every run failed or none ran."""

    since: datetime
    reason: str


def recent_fire_times(cron: str, now: datetime, count: int = MISSED_RUNS) -> list[datetime]:
    """The last ``count`` times the cron expression fired at or before ``now`` (oldest first).

    APScheduler 3 only walks forwards, so a window before ``now`` is walked and doubled until
    it holds enough firings: a minutely cron costs a few hundred steps, a yearly one a few.
    """
    from harvester.scheduling.triggers import cron_trigger

    trigger = cron_trigger(cron)
    window = _LOOKBACK_START
    while True:
        start = now - window
        fired: list[datetime] = []
        moment = trigger.get_next_fire_time(None, start)
        while moment is not None and moment <= now:
            fired.append(moment)
            moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
        if len(fired) >= count or window >= _LOOKBACK_MAX:
            return fired[-count:]
        window *= 2


def overdue(schedule: Schedule | None, last_success: datetime | None,
            first_run: datetime | None, now: datetime) -> Overdue | None:
    """``None`` when the source is on time (or not scheduled, or never tried yet).

    ``last_success`` is when its last "ok" harvest ended; ``first_run`` when its first
    harvest of any outcome started (a source never harvested is new, not overdue).
    """
    if schedule is None or first_run is None:
        return None
    if schedule.cron is not None:
        fired = recent_fire_times(schedule.cron, now)
        if len(fired) < MISSED_RUNS:
            return None
        since = fired[0]
        what = f"the runs due at {since:%Y-%m-%d %H:%M} and {fired[-1]:%Y-%m-%d %H:%M} UTC"
    elif schedule.interval_s is not None:
        since = now - timedelta(seconds=MISSED_RUNS * schedule.interval_s + schedule.jitter_s)
        what = f"{MISSED_RUNS} intervals of {schedule.interval_s}s"
    else:
        return None
    if last_success is not None and last_success >= since:
        return None
    if last_success is None and first_run >= since:
        return None  # its first tries are younger than two scheduled runs
    if last_success is None:
        return Overdue(since, f"never harvested successfully; {what} passed without success")
    return Overdue(since, f"no successful harvest since {last_success:%Y-%m-%d %H:%M} UTC; "
                          f"{what} passed without success")
