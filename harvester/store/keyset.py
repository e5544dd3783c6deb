"""Reading a large table in key order, a batch at a time, with memory that stays flat.

Keyset paging ("key > last seen, order by key, limit n") rather than OFFSET: each batch is an
index range scan however deep into the table it is, and rows written meanwhile never shift
what the next batch starts with.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.orm import InstrumentedAttribute, Session


def keyset_batches(session: Session, stmt: Select[Any], key: InstrumentedAttribute[Any], *,
                   batch: int, after: Any) -> Iterator[Sequence[Row[Any]]]:
    """The rows of ``stmt`` with ``key`` above ``after``, in ``key`` order, ``batch`` at a time.

    ``stmt`` must select ``key`` itself (it is read back from the last row of each batch).
    Rows come as Core rows from the session's connection: no ORM identity map to grow.
    """
    name = key.key
    last = after
    while True:
        rows = session.connection().execute(stmt.where(key > last).order_by(key).limit(batch)).all()
        if not rows:
            return
        yield rows
        last = getattr(rows[-1], name)
