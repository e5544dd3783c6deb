"""Live progress of long harvests on a terminal: one status line, refreshed twice a second."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class TerminalProgress:
    """Shows records, pages, rate and completeListSize per source on one rewritten line."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._state: dict[str, tuple[int, int, int | None, float]] = {}
        self._last_draw: float | None = None
        self._width = 0

    def update(self, source: str, *, pages: int, records: int, total: int | None) -> None:
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
            parts.append(f"{name}: {records:,}{of} records, {pages} pages, {rate:,.0f}/s")
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
