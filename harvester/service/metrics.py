"""``/metrics`` in the Prometheus text exposition format (version 0.0.4), written by hand.

Every number is read from the store at scrape time, so several service processes report
the same values and nothing is lost on restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from harvester.config import Settings
from harvester.status import overdue_sources
from harvester.service.aggregate import (RECORD_STATES, harvest_run_counts, last_successes,
                                         outbox_backlog, record_counts)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LABEL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{name}="{value.translate(_LABEL_ESCAPES)}"' for name, value in labels.items())
    return "{" + inner + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _family(name: str, kind: str, help_text: str,
            samples: Iterable[tuple[Mapping[str, str], float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines.extend(f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples)
    return lines


def render_metrics(settings: Settings, engine: Engine) -> str:
    counts = record_counts(engine)
    sources = sorted(set(settings.sources) | set(counts))
    records = [({"source": source, "state": state}, counts.get(source, {}).get(state, 0))
               for source in sources for state in RECORD_STATES]
    runs = harvest_run_counts(engine)
    run_samples = [({"source": source, "status": status}, n)
                   for (source, status), n in sorted(runs.items())]
    successes = last_successes(engine)
    success_samples = [({"source": source}, when.timestamp())
                       for source, when in sorted(successes.items())]
    with Session(engine) as session:
        late = overdue_sources(settings, session)
    overdue_samples = [({"source": name}, 1 if late[name] else 0) for name in sorted(late)
                       if settings.sources[name].schedule is not None and settings.sources[name].enabled]
    lines = (
        _family("ichlinks_records", "gauge",
                "ICH records in the store by source and state (published = live and not quarantined).",
                records)
        + _family("ichlinks_harvest_runs_total", "counter",
                  "Harvest runs recorded in the store by source and final status.", run_samples)
        + _family("ichlinks_outbox_backlog", "gauge",
                  "Changes recorded in the store that the search index has not received yet.",
                  [({}, outbox_backlog(engine))])
        + _family("ichlinks_last_success_timestamp_seconds", "gauge",
                  "End of the last harvest run of the source that finished ok (Unix time).",
                  success_samples)
        + _family("ichlinks_source_overdue", "gauge",
                  "1 when the scheduled source has gone two scheduled runs without a successful "
                  "harvest (as in ichlinks status --overdue), else 0.", overdue_samples)
    )
    return "\n".join(lines) + "\n"
