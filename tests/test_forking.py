"""Forked helpers end with their parent, even when stuck on a lock the parent held.

``kill -9`` of a harvest can land while the parent holds the lock inside a
``multiprocessing.Event`` it is setting; a follower waiting on that event would then wait
for ever and keep the caller's pipes open.  These run the real fork in a real subprocess.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harvester.forking import die_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the parent-death signal is Linux's")

_PARENT = """
import multiprocessing, os, sys, time
from harvester.forking import die_with_parent

def helper(lock, parent):
    die_with_parent(parent)
    lock.acquire()  # held by the parent: blocks until someone kills us
    os._exit(3)

if __name__ == "__main__":
    ctx = multiprocessing.get_context("fork")
    lock = ctx.Lock()
    lock.acquire()
    child = ctx.Process(target=helper, args=(lock, os.getpid()), daemon=True)
    child.start()
    print(child.pid, flush=True)
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_helper_stuck_on_a_lock_its_killed_parent_held_ends_with_it(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(_PARENT, encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[1])
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        time.sleep(0.3)
        assert _alive(child), "the helper should be waiting on the parent's lock"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the helper outlived its killed parent"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
        parent.stdout.close()


def test_a_helper_whose_parent_is_already_gone_ends_at_once() -> None:
    import multiprocessing

    def helper() -> None:
        die_with_parent(os.getppid() + 1_000_000)  # not our parent: as if it had died already
        os._exit(3)

    proc = multiprocessing.get_context("fork").Process(target=helper)
    proc.start()
    proc.join(timeout=10)
    assert proc.exitcode == 0
