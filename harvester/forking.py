"""Whether this process may fork worker processes (mapper, relayer, remap workers).

``fork`` copies only the calling thread.  A lock another thread held at that moment stays
locked in the child for ever: SQLAlchemy's mapper-configuration mutex, SQLite's own mutexes,
a logging handler's lock.  The scheduler daemon and the HTTP service run harvests in threads
beside other threads, and a child forked there was seen to hang on such a lock.  So helpers
are forked only from a process with a single thread; otherwise the work is done in-process.

A forked helper must also end with its parent.  Killed with ``kill -9``, the parent can die
holding the lock inside a ``multiprocessing.Event`` it was setting, and a helper waiting on
that event then waits for ever, holding the terminal's or the caller's pipes open; so each
helper asks the kernel to kill it when its parent goes (Linux's parent-death signal).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading

_PR_SET_PDEATHSIG = 1


def fork_is_safe() -> bool:
    """True on a platform with ``fork`` when no other thread is alive to be holding a lock."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def die_with_parent(parent: int) -> None:
    """Called first in a forked helper: the kernel kills it when ``parent`` ends.

    ``parent`` is the pid the caller saw before forking; if that process is already gone,
    the helper ends now.  Elsewhere than Linux the helpers still notice a new parent at
    their next poll and stop there.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)  # this process's own symbols, libc's among them
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)
