"""Scheduled harvesting: the ``ichlinks schedule`` daemon and the per-source leases it shares
with other daemons on the same store.

The names below are loaded on first use, so ``ichlinks status`` can ask a schedule when it
was due (``scheduling.overdue``, ``scheduling.triggers``) without importing the daemon,
its job store and the harvest pipeline.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "JOB_TABLE": "daemon", "SchedulerDaemon": "daemon", "SyncReport": "daemon",
    "scheduled_sources": "daemon",
    "HELD": "jobs", "SKIPPED": "jobs", "JobRuntime": "jobs", "harvest_job": "jobs",
    "job_id": "jobs", "lease_name": "jobs",
    "crontab_weekdays": "triggers", "trigger_for": "triggers",
}
_LEASES = ("DEFAULT_TTL_S", "HeldLease", "LeaseHolder", "acquire_lease", "hold_lease",
           "lease_holder", "release_lease", "renew_lease")

__all__ = sorted([*_HOMES, *_LEASES])


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(f"harvester.scheduling.{_HOMES[name]}"), name)
    if name in _LEASES:
        return getattr(import_module("harvester.store.leases"), name)
    raise AttributeError(f"module 'harvester.scheduling' has no attribute {name!r}")
