"""Database leases: at most one process harvests a source at a time, on any machine.

Several ``ichlinks schedule`` daemons may share one store (and so one job table), and each
fires the jobs that are due, so the store itself must decide who runs.  A lease is one row
in ``leases`` (name, owner, expires_at): taking it is a single atomic upsert that only
succeeds when the row is absent or expired, so on PostgreSQL (row lock, WHERE re-checked
on the newest row version) and SQLite (one writer at a time) exactly one racer wins.
The holder renews it from a heartbeat thread; a crashed holder stops renewing and its
lease expires after the TTL.  Expiry uses the database's clock, not each machine's, so
daemons on hosts with skewed clocks still agree on when a lease has run out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, Float, delete, literal_column, select, update
from sqlalchemy.exc import SQLAlchemyError

from harvester.errors import StoreError
from harvester.store.models import Lease

log = logging.getLogger("ichlinks.schedule")

DEFAULT_TTL_S = 300.0


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease and for how many more seconds (negative: expired, not yet taken over)."""

    owner: str
    remaining_s: float


def process_owner() -> str:
    """``host:pid``: what an operator needs to find the process holding a lease."""
    return f"{socket.gethostname()}:{os.getpid()}"


def new_owner_token(base: str | None = None) -> str:
    """A token unique to one acquisition, so two threads of one process never share a lease."""
    return f"{base or process_owner()}/{uuid.uuid4().hex[:8]}"


def _db_now(engine: Engine) -> ColumnElement[float]:
    name = engine.dialect.name
    if name == "postgresql":
        return literal_column("extract(epoch from clock_timestamp())::float8", Float)
    if name == "sqlite":
        return literal_column("((julianday('now') - 2440587.5) * 86400.0)", Float)
    raise StoreError(f"leases need SQLite or PostgreSQL, not {name}")


def _upsert(engine: Engine):  # type: ignore[no-untyped-def]
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def acquire_lease(engine: Engine, name: str, owner: str, ttl_s: float = DEFAULT_TTL_S) -> bool:
    """Take the lease if it is free or expired; True when ``owner`` now holds it.

    One statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE expired): no read-then-write
    window in which two processes could both see the lease free.
    """
    now = _db_now(engine)
    stmt = _upsert(engine)(Lease).values(name=name, owner=owner, expires_at=now + float(ttl_s))
    stmt = stmt.on_conflict_do_update(
        index_elements=[Lease.name],
        set_={"owner": stmt.excluded.owner, "expires_at": stmt.excluded.expires_at},
        where=Lease.expires_at < now).returning(Lease.owner)
    # RETURNING yields a row only when this statement inserted or took over the row
    # (rowcount is not reliable for upserts across drivers).
    with engine.begin() as conn:
        return conn.execute(stmt).first() is not None


def renew_lease(engine: Engine, name: str, owner: str, ttl_s: float = DEFAULT_TTL_S) -> bool:
    """Push the expiry ``ttl_s`` past now; False when someone else has taken the lease over.

    An expired lease nobody has taken yet is still ours to renew: no one else ran meanwhile.
    """
    stmt = (update(Lease).where(Lease.name == name, Lease.owner == owner)
            .values(expires_at=_db_now(engine) + float(ttl_s)))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def release_lease(engine: Engine, name: str, owner: str) -> bool:
    """Give the lease up; False when it was not ours (any more)."""
    with engine.begin() as conn:
        return conn.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner)).rowcount == 1


def lease_holder(engine: Engine, name: str) -> LeaseHolder | None:
    """The current row for ``name``, for logs and ``status``; None when nobody holds it."""
    stmt = select(Lease.owner, Lease.expires_at - _db_now(engine)).where(Lease.name == name)
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return LeaseHolder(owner=row[0], remaining_s=float(row[1])) if row else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reclaim_dead_local_lease(engine: Engine, name: str) -> bool:
    """Free a lease whose holder ran on this host and is gone (kill -9, OOM, power cut).

    Waiting out the TTL is only necessary when the holder may be alive elsewhere; a process
    on this machine that no longer exists can be known dead, so its lease is stale now.
    """
    holder = lease_holder(engine, name)
    if holder is None:
        return False
    host, _, rest = holder.owner.partition(":")
    pid_text = rest.split("/", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    if _pid_alive(int(pid_text)):
        return False
    with engine.begin() as conn:
        gone = conn.execute(delete(Lease).where(Lease.name == name, Lease.owner == holder.owner)).rowcount
    if gone:
        log.warning("%s: lease of dead process %s (this host) reclaimed", name, holder.owner)
    return bool(gone)


class HeldLease:
    """A lease this process holds, renewed by a heartbeat thread until :meth:`release`.

    When renewing fails because another owner took the lease over (we stalled past the
    TTL), or the store stays unreachable for a whole TTL, the lease counts as lost and
    ``on_lost`` runs: the caller stops its work at the next safe point.
    """

    def __init__(self, engine: Engine, name: str, owner: str, ttl_s: float = DEFAULT_TTL_S, *,
                 renew_every_s: float | None = None,
                 on_lost: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.name = name
        self.owner = owner
        self.ttl_s = ttl_s
        self.renew_every_s = renew_every_s if renew_every_s is not None else ttl_s / 3
        self.on_lost = on_lost
        self.lost = threading.Event()
        self.renewals = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease {name}", daemon=True)

    def start(self) -> HeldLease:
        self._thread.start()
        return self

    def _beat(self) -> None:
        last_ok = time.monotonic()
        while not self._done.wait(self.renew_every_s):
            try:
                if renew_lease(self.engine, self.name, self.owner, self.ttl_s):
                    self.renewals += 1
                    last_ok = time.monotonic()
                    continue
                reason = "another process took it over"
            except (SQLAlchemyError, StoreError) as exc:
                if time.monotonic() - last_ok < self.ttl_s:
                    log.warning("%s: cannot renew the lease (will retry): %s", self.name, exc)
                    continue
                reason = f"the store was unreachable for the whole TTL ({exc})"
            log.error("%s: lease lost: %s; stopping after the current page", self.name, reason)
            self.lost.set()
            if self.on_lost is not None:
                self.on_lost()
            return

    def release(self) -> None:
        """Stop the heartbeat and delete the row; if that fails the lease simply expires."""
        self._done.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        if self.lost.is_set():
            return
        try:
            release_lease(self.engine, self.name, self.owner)
        except (SQLAlchemyError, StoreError) as exc:
            log.warning("%s: cannot release the lease (it expires in at most %.0fs): %s",
                        self.name, self.ttl_s, exc)


@contextmanager
def hold_lease(engine: Engine, name: str, owner: str, ttl_s: float = DEFAULT_TTL_S, *,
               renew_every_s: float | None = None,
               on_lost: Callable[[], None] | None = None) -> Iterator[HeldLease | None]:
    """Hold ``name`` for the block, renewed in the background; yields None when it is taken."""
    if not acquire_lease(engine, name, owner, ttl_s):
        if not (reclaim_dead_local_lease(engine, name) and acquire_lease(engine, name, owner, ttl_s)):
            yield None
            return
    held = HeldLease(engine, name, owner, ttl_s, renew_every_s=renew_every_s, on_lost=on_lost).start()
    try:
        yield held
    finally:
        held.release()
