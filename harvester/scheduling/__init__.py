"""Scheduled harvesting: the ``ichlinks schedule`` daemon and the per-source leases it shares
with other daemons on the same store."""

from harvester.scheduling.daemon import JOB_TABLE, SchedulerDaemon, SyncReport, scheduled_sources
from harvester.scheduling.jobs import HELD, SKIPPED, JobRuntime, harvest_job, job_id, lease_name
from harvester.store.leases import (DEFAULT_TTL_S, HeldLease, LeaseHolder, acquire_lease,
                                         hold_lease, lease_holder, release_lease, renew_lease)
from harvester.scheduling.triggers import crontab_weekdays, trigger_for

__all__ = ["DEFAULT_TTL_S", "HELD", "JOB_TABLE", "SKIPPED", "HeldLease", "JobRuntime", "LeaseHolder",
           "SchedulerDaemon", "SyncReport", "acquire_lease", "crontab_weekdays", "harvest_job",
           "hold_lease", "job_id", "lease_holder", "lease_name", "release_lease", "renew_lease",
           "scheduled_sources", "trigger_for"]
