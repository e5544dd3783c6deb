"""Run one child process and measure it: wall seconds, CPU seconds and its own peak RSS.

``os.wait4`` returns the resource usage of exactly the child it reaps (and of the
children that child reaped), so each step's peak RSS is its own high-water mark, not the
maximum over every process the benchmark has started as ``RUSAGE_CHILDREN`` would give.
One floor remains: Linux starts a child's peak at its parent's high-water mark (recorded
at exec), so the measuring process must stay small — `python -m bench` is (~40 MB).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChildRun:
    argv: tuple[str, ...]
    returncode: int
    seconds: float
    cpu_s: float
    peak_rss_bytes: int
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def peak_rss_mb(self) -> float:
        return round(self.peak_rss_bytes / 2**20, 1)

    def check(self) -> ChildRun:
        """Raise with the child's own words when it failed; the benchmark cannot go on."""
        if self.returncode != 0 or self.timed_out:
            why = "timed out" if self.timed_out else f"exit code {self.returncode}"
            tail = (self.stderr or self.stdout)[-3000:]
            raise RuntimeError(f"{' '.join(self.argv)}: {why}\n{tail}")
        return self


def run_measured(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                 timeout_s: float | None = None) -> ChildRun:
    """Run ``argv`` to completion; its output goes to temporary files, never to a pipe we must drain."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=cwd, env=dict(env))
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout_s, kill) if timeout_s else None
        if timer is not None:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer is not None:
                timer.cancel()
        seconds = time.perf_counter() - started
        # Tell Popen the child is reaped, so it never waits for (or signals) a reused pid.
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(argv=tuple(argv), returncode=proc.returncode, seconds=seconds,
                        cpu_s=usage.ru_utime + usage.ru_stime,
                        peak_rss_bytes=usage.ru_maxrss * 1024,  # Linux reports kilobytes
                        stdout=out.read().decode("utf-8", "replace"),
                        stderr=err.read().decode("utf-8", "replace"), timed_out=killed.is_set())
