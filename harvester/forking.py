"""Whether this process may fork worker processes (mapper, relayer, remap workers).

``fork`` copies only the calling thread.  A lock another thread held at that moment stays
locked in the child for ever: SQLAlchemy's mapper-configuration mutex, SQLite's own mutexes,
a logging handler's lock.  The scheduler daemon and the HTTP service run harvests in threads
beside other threads, and a child forked there was seen to hang on such a lock.  So helpers
are forked only from a process with a single thread; otherwise the work is done in-process.
"""

from __future__ import annotations

import multiprocessing
import threading


def fork_is_safe() -> bool:
    """True on a platform with ``fork`` when no other thread is alive to be holding a lock."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
