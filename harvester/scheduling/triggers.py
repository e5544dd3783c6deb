"""A source's ``schedule:`` as an APScheduler 3 trigger, with crontab's own weekday numbers.

APScheduler 3's ``CronTrigger.from_crontab`` numbers weekdays from Monday = 0, while
crontab(5) has Sunday = 0 (and 7); "0 2 * * 0" would quietly run on Mondays (APScheduler
issue 286, fixed only in 4.x).  So the day-of-week field is translated to weekday names,
which both read the same way.  One crontab rule is still not reproduced: when both
day-of-month and day-of-week are restricted, cron runs on *either*, APScheduler on *both*.
"""

from __future__ import annotations

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from harvester.config import Schedule
from harvester.errors import ConfigError

# crontab(5) order: 0 = Sunday ... 6 = Saturday, 7 = Sunday again.
_CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# APScheduler's order, used for the output so that it reads Monday first.
_APS_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _day_number(text: str) -> int:
    word = text.strip().lower()
    if word.isdigit():
        number = int(word)
        if not 0 <= number <= 7:
            raise ValueError(f"weekday {number} is not 0-7")
        return number
    if word in _CRONTAB_DAYS:
        return _CRONTAB_DAYS.index(word)
    raise ValueError(f"{text!r} is not a weekday number 0-7 or name sun-sat")


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field ("0", "1-5", "*/2", "sat,7") as APScheduler weekday names."""
    days: set[int] = set()
    for item in field.split(","):
        part, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step {step} in {field!r} must be at least 1")
        if part == "*":
            first, last = 0, 6
        elif "-" in part:
            low, high = part.split("-", 1)
            first, last = _day_number(low), _day_number(high)
            if last < first:
                raise ValueError(f"range {part!r} runs backwards")
        else:
            first = _day_number(part)
            last = 6 if step_text else first  # "1/2" is "1-6/2" in cron
        days.update(d % 7 for d in range(first, last + 1, step))
    if len(days) == 7:
        return "*"
    return ",".join(name for name in _APS_ORDER if _CRONTAB_DAYS.index(name) in days)


def cron_trigger(expr: str, jitter_s: int | None = None) -> CronTrigger:
    """A five-field crontab expression, evaluated in UTC."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields, not {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_weekdays(weekday), timezone="UTC",
                       jitter=jitter_s or None)


def trigger_for(schedule: Schedule) -> BaseTrigger:
    """The trigger of one source; jitter spreads sources that share a cron time."""
    jitter = schedule.jitter_s or None
    if schedule.cron is not None:
        try:
            return cron_trigger(schedule.cron, schedule.jitter_s)
        except ValueError as exc:
            raise ConfigError(f"cannot schedule cron {schedule.cron!r}: {exc}", key="schedule.cron") from exc
    if schedule.interval_s is None:
        raise ConfigError("a schedule needs cron or interval", key="schedule")
    return IntervalTrigger(seconds=schedule.interval_s, timezone="UTC", jitter=jitter)


def describe_schedule(schedule: Schedule) -> str:
    """Human text that also serves as the schedule's fingerprint (see ``daemon.sync_jobs``)."""
    when = f"cron {schedule.cron!r} UTC" if schedule.cron is not None else f"every {schedule.interval_s}s"
    return f"{when}, jitter {schedule.jitter_s}s"
