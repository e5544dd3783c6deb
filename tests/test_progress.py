"""Live progress: one rewritten line with records, total, pages and rate per source."""

from __future__ import annotations

import io

from harvester.progress import TerminalProgress


def test_progress_line_shows_each_source_and_is_cleared() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out, interval_s=0.0)
    progress.update("vn-vicas", pages=3, records=300, total=4147)
    progress.update("kr-nihc", pages=1, records=50, total=None)
    text = out.getvalue()
    assert text.startswith("\r")
    last = text.rsplit("\r", 1)[-1]
    assert "vn-vicas: 300/4,147 records, 3 pages" in last
    assert "kr-nihc: 50 records, 1 pages" in last
    progress.close()
    assert out.getvalue().endswith("\r")
    assert out.getvalue().rsplit("\r", 2)[-2].strip() == ""


def test_progress_is_throttled() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out, interval_s=3600.0)
    progress.update("a", pages=1, records=1, total=None)
    progress.update("a", pages=2, records=2, total=None)
    assert out.getvalue().count("\r") == 1
