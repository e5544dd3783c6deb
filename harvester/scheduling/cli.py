"""``ichlinks schedule``: the long-running harvest scheduler (loaded lazily by the CLI)."""

from __future__ import annotations

import json
import logging

import click

from harvester.cli import Context, handle_errors, pass_ctx
from harvester.scheduling.daemon import DEFAULT_MISFIRE_GRACE_S, SchedulerDaemon, once_exit_code
from harvester.store.leases import DEFAULT_TTL_S


@click.command()
@click.option("--run-now", is_flag=True, help="Make every job due at start, then keep to the schedule.")
@click.option("--once", is_flag=True,
              help="Harvest every scheduled source once, now (under its lease), and exit.")
@click.option("--lease-ttl", type=click.FloatRange(min=0.1), default=DEFAULT_TTL_S, show_default=True,
              metavar="SECONDS", help="How long a crashed daemon's lease on a source outlives it.")
@click.option("--misfire-grace", type=click.IntRange(min=1), default=DEFAULT_MISFIRE_GRACE_S,
              show_default=True, metavar="SECONDS",
              help="A run missed (daemon down) by less than this is made up once.")
@pass_ctx
@handle_errors
def schedule(ctx: Context, run_now: bool, once: bool, lease_ttl: float, misfire_grace: int) -> None:
    """Harvest each enabled source on its schedule (cron or interval) until SIGTERM.

    \b
    Several daemons may share one store: a per-source lease in the store makes
    sure only one of them harvests a source at a time.  SIGTERM/SIGINT finish the
    current page of each running harvest, release the leases and exit 0; SIGHUP
    re-reads the configuration and updates the jobs.
    """
    ichlinks_log = logging.getLogger("ichlinks")
    if ichlinks_log.getEffectiveLevel() > logging.INFO:  # a daemon says what it does unless told more
        ichlinks_log.setLevel(logging.INFO)
    daemon = SchedulerDaemon(ctx.config_path, lease_ttl_s=lease_ttl, misfire_grace_s=misfire_grace)
    if once:
        outcomes = daemon.run_once()
        for source, outcome in outcomes.items():
            click.echo(json.dumps({"source": source, "outcome": outcome}, ensure_ascii=False))
        raise SystemExit(once_exit_code(outcomes, stopped=daemon.runtime.stopping.is_set()))
    daemon.start(run_now=run_now)
    raise SystemExit(daemon.serve_forever())
