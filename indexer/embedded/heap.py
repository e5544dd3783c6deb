"""Give memory back to the system after each index writer (glibc only).

tantivy's writer threads allocate their indexing arenas through the C allocator, and glibc
keeps freed memory in per-thread arenas instead of returning it: with one short-lived writer
per relay batch, a long harvest's relay process grew by ~50 MB per 100,000 records (peak
237 MB at 100,000) although nothing was live.  ``malloc_trim(0)`` after a writer is dropped
releases those free pages (measured: a few milliseconds).  Elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def trim_heap() -> bool:
    """True when the allocator was asked to release free memory."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
