"""Garbage-collector settings for the processes that work through records in batches.

CPython's cyclic collector walks every tracked object it has not frozen.  A batch process
(the harvest beside its followers, the mapper and relayer followers, remap workers) holds a
couple of hundred thousand long-lived objects -- modules, SQLAlchemy's mappers, compiled
crosswalks -- and allocates millions of short-lived ones per run: lxml proxies, items,
record dicts.  Every full collection walked the long-lived set again; measured on the
benchmark's records, that was about a third of the crosswalk's time.

Freezing what is alive once set-up is done takes it out of all later collections (and, done
before a fork, spares the children writing the GC headers of inherited objects, which would
copy the parent's pages).  A larger young generation lets most per-record objects die by
reference count before any collection sees them.  Cycles are still collected; only the
frozen set is exempt, and it was alive anyway.

Long-running processes that run harvests in threads (the scheduler, the HTTP service) do not
call this: each job there would freeze whatever happened to be alive at its start.
"""

from __future__ import annotations

import gc

# Net allocations of tracked objects between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 10_000

_settled = False


def settle_for_batches() -> bool:
    """Freeze what is alive now and widen the young generation, once per process.

    Returns whether this call did it (False: already done in this process, or inherited
    from the parent it was forked from, which froze before forking).
    """
    global _settled
    if _settled:
        return False
    _settled = True
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if young:  # 0 means the collector was switched off on purpose: leave it off
        gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
    return True
