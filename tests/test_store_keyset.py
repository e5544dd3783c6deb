"""Keyset paging (harvester/store/keyset.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from itertools import islice
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from harvester.store.keyset import keyset_batches
from harvester.store.models import Outbox


def _outbox(store: Any, n: int, order: list[int] | None = None) -> list[int]:
    from harvester.store.checkpoints import utcnow

    with Session(store) as s, s.begin():
        s.execute(insert(Outbox), [{"record_id": f"r{i:03d}", "action": "upsert", "created_at": utcnow(),
                                    "attempts": 0} for i in (order or range(n))])
    with Session(store) as s:
        return list(s.scalars(select(Outbox.id).order_by(Outbox.id)))


def test_every_row_once_in_key_order_in_batches_of_the_size_asked(store: Any) -> None:
    ids = _outbox(store, 10)
    stmt = select(Outbox.id, Outbox.record_id)
    with Session(store) as s:
        batches = [list(rows) for rows in islice(keyset_batches(s, stmt, Outbox.id, batch=3, after=0), 10)]
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert [r.id for b in batches for r in b] == ids
    assert [r.record_id for b in batches for r in b] == [f"r{i:03d}" for i in range(10)]


def test_starts_after_the_key_given_and_keeps_the_statements_filter(store: Any) -> None:
    ids = _outbox(store, 8)
    stmt = select(Outbox.id).where(Outbox.record_id != "r005")
    with Session(store) as s:
        seen = [r.id for rows in islice(keyset_batches(s, stmt, Outbox.id, batch=2, after=ids[2]), 10)
                for r in rows]
    assert seen == [ids[3], ids[4], ids[6], ids[7]]


def test_string_keys_and_an_empty_table(store: Any) -> None:
    stmt = select(Outbox.record_id)
    with Session(store) as s:
        assert list(keyset_batches(s, stmt, Outbox.record_id, batch=5, after="")) == []
    _outbox(store, 7, order=[6, 2, 0, 5, 1, 4, 3])  # key order is not insertion order
    with Session(store) as s:
        seen = [r.record_id for rows in islice(keyset_batches(s, stmt, Outbox.record_id, batch=2,
                                                              after="r001"), 10)
                for r in rows]
    assert seen == [f"r{i:03d}" for i in range(2, 7)]
