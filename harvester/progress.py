"""Progress of long harvests: a status line on a terminal, a log line a minute elsewhere.

A harvest of a large repository takes hours; under the scheduler or cron nobody watches a
terminal, so the operator reads the log.  Both kinds say which source, how many records
and pages so far, and how fast.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

# How often a harvest that is not on a terminal says how far it has got (per source).
LOG_INTERVAL_S = 60.0


class TerminalProgress:
    """Shows records, pages, rate and completeListSize per source on one rewritten line."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int | None, int, int | None, float]] = {}
        self._last_draw: float | None = None
        self._width = 0

    def update(self, source: str, *, pages: int | None, records: int, total: int | None) -> None:
        """``pages`` None: a job that does not page (remap), shown without them."""
        now = time.monotonic()
        with self._lock:
            started = self._state.get(source, (0, 0, None, now))[3]
            self._state[source] = (pages, records, total, started)
            if self._last_draw is not None and now - self._last_draw < self.interval_s:
                return
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        parts = []
        for name, (pages, records, total, started) in self._state.items():
            rate = records / max(now - started, 1e-6)
            of = f"/{total:,}" if total else ""
            paged = f", {pages} pages" if pages is not None else ""
            parts.append(f"{name}: {records:,}{of} records{paged}, {rate:,.0f}/s")
        line = " | ".join(parts)
        pad = max(0, self._width - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        with self._lock:
            if self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
                self._width = 0


class LogProgress:
    """One INFO line per source every ``interval_s`` while its harvest runs.

    Logged under ``ichlinks.harvest``: the scheduler daemon logs at INFO, so its harvests
    report; ``ichlinks harvest`` shows the lines with ``-v``.  A harvest shorter than the
    interval logs none, and its summary line says everything.
    """

    def __init__(self, interval_s: float | None = None, *,
                 logger: logging.Logger | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = LOG_INTERVAL_S if interval_s is None else interval_s
        self.log = logger or logging.getLogger("ichlinks.harvest")
        self.clock = clock
        self._lock = threading.Lock()
        self._first: dict[str, tuple[float, int]] = {}  # the first page's report: time, records
        self._logged: dict[str, float] = {}

    def update(self, source: str, *, pages: int, records: int, total: int | None) -> None:
        now = self.clock()
        with self._lock:
            started, first_records = self._first.setdefault(source, (now, records))
            if now == started or now - self._logged.get(source, started) < self.interval_s:
                return
            self._logged[source] = now
        rate = (records - first_records) / (now - started)  # since the first page came in
        listed = f"; this list holds {total:,} (completeListSize)" if total else ""
        self.log.info("%s: in progress, %s records in %d pages so far, %s records/s%s",
                      source, f"{records:,}", pages, f"{rate:,.0f}", listed)

    def close(self) -> None:
        """Nothing to clear: log lines stay."""
