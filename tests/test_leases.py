"""Source leases on SQLite and PostgreSQL: acquire, renew, release, expiry, races, heartbeat."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from harvester.store.leases import (HeldLease, acquire_lease, hold_lease, lease_holder,
                                         new_owner_token, process_owner, release_lease, renew_lease)
from harvester.store.models import Lease


def _row(engine: Engine, name: str) -> tuple[str, float] | None:
    with Session(engine) as s:
        row = s.execute(select(Lease.owner, Lease.expires_at).where(Lease.name == name)).first()
    return (row[0], row[1]) if row else None


def _expire(engine: Engine, name: str) -> None:
    """Backdate the lease as if its holder had crashed long ago (no sleeping for a TTL)."""
    with Session(engine) as s, s.begin():
        s.execute(update(Lease).where(Lease.name == name).values(expires_at=0.0))


def test_a_free_lease_is_taken_and_then_refused_to_others(store: Engine) -> None:
    assert lease_holder(store, "harvest:a") is None
    assert acquire_lease(store, "harvest:a", "host1:1/x", ttl_s=60)
    assert not acquire_lease(store, "harvest:a", "host2:2/y", ttl_s=60)
    assert not acquire_lease(store, "harvest:a", "host1:1/x", ttl_s=60), "not re-entrant either"
    holder = lease_holder(store, "harvest:a")
    assert holder is not None and holder.owner == "host1:1/x"
    assert 55 < holder.remaining_s <= 60
    assert acquire_lease(store, "harvest:b", "host2:2/y", ttl_s=60), "leases are per name"


def test_renew_extends_only_the_holders_lease(store: Engine) -> None:
    assert acquire_lease(store, "harvest:a", "me", ttl_s=5)
    before = _row(store, "harvest:a")
    assert before is not None
    assert renew_lease(store, "harvest:a", "me", ttl_s=120)
    after = _row(store, "harvest:a")
    assert after is not None and after[0] == "me"
    assert after[1] > before[1] + 100
    assert not renew_lease(store, "harvest:a", "someone-else", ttl_s=120)
    assert not renew_lease(store, "harvest:none", "me", ttl_s=120)
    assert _row(store, "harvest:a") == after


def test_release_frees_the_lease_only_for_its_owner(store: Engine) -> None:
    assert acquire_lease(store, "harvest:a", "me", ttl_s=60)
    assert not release_lease(store, "harvest:a", "someone-else")
    assert _row(store, "harvest:a") is not None
    assert release_lease(store, "harvest:a", "me")
    assert _row(store, "harvest:a") is None
    assert not release_lease(store, "harvest:a", "me")
    assert acquire_lease(store, "harvest:a", "someone-else", ttl_s=60)


def test_an_expired_lease_is_taken_over_and_the_old_holder_has_lost_it(store: Engine) -> None:
    assert acquire_lease(store, "harvest:a", "crashed", ttl_s=60)
    _expire(store, "harvest:a")
    holder = lease_holder(store, "harvest:a")
    assert holder is not None and holder.remaining_s < 0
    assert acquire_lease(store, "harvest:a", "successor", ttl_s=60)
    assert _row(store, "harvest:a")[0] == "successor"  # type: ignore[index]
    assert not renew_lease(store, "harvest:a", "crashed", ttl_s=60)
    assert not release_lease(store, "harvest:a", "crashed")
    assert _row(store, "harvest:a")[0] == "successor"  # type: ignore[index]


def test_a_lease_expires_by_the_database_clock(store: Engine) -> None:
    assert acquire_lease(store, "harvest:a", "short", ttl_s=0.3)
    assert not acquire_lease(store, "harvest:a", "other", ttl_s=60)
    time.sleep(0.6)
    assert acquire_lease(store, "harvest:a", "other", ttl_s=60)


def test_an_expired_lease_nobody_took_can_still_be_renewed(store: Engine) -> None:
    assert acquire_lease(store, "harvest:a", "slow", ttl_s=60)
    _expire(store, "harvest:a")
    assert renew_lease(store, "harvest:a", "slow", ttl_s=60)
    assert not acquire_lease(store, "harvest:a", "other", ttl_s=60)


def _race(store: Engine, n: int, name: str) -> list[str]:
    """``n`` threads call acquire at the same instant; the owners that got True."""
    barrier = threading.Barrier(n)
    winners: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def contender(i: int) -> None:
        owner = f"racer-{i}"
        try:
            barrier.wait(timeout=30)
            if acquire_lease(store, name, owner, ttl_s=60):
                with lock:
                    winners.append(owner)
        except BaseException as exc:  # reported below, not swallowed
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return winners


@pytest.mark.parametrize("round_", range(3))
def test_threads_racing_for_a_free_lease_exactly_one_wins(store: Engine, round_: int) -> None:
    winners = _race(store, 8, f"harvest:race-{round_}")
    assert len(winners) == 1, winners
    assert _row(store, f"harvest:race-{round_}")[0] == winners[0]  # type: ignore[index]


@pytest.mark.parametrize("round_", range(3))
def test_threads_racing_for_an_expired_lease_exactly_one_wins(store: Engine, round_: int) -> None:
    name = f"harvest:stale-{round_}"
    assert acquire_lease(store, name, "crashed", ttl_s=60)
    _expire(store, name)
    winners = _race(store, 8, name)
    assert len(winners) == 1, winners
    assert _row(store, name)[0] == winners[0]  # type: ignore[index]


def _wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_the_heartbeat_keeps_a_lease_past_its_ttl_and_release_frees_it(store: Engine) -> None:
    with hold_lease(store, "harvest:a", "holder", ttl_s=0.6, renew_every_s=0.1) as held:
        assert held is not None
        assert _wait_for(lambda: held.renewals >= 3)
        time.sleep(0.8)  # longer than the TTL: only the heartbeat keeps the lease alive
        assert not acquire_lease(store, "harvest:a", "other", ttl_s=60)
        assert not held.lost.is_set()
    assert _row(store, "harvest:a") is None
    assert acquire_lease(store, "harvest:a", "other", ttl_s=60)


def test_hold_lease_yields_none_when_the_lease_is_taken(store: Engine) -> None:
    assert acquire_lease(store, "harvest:a", "first", ttl_s=60)
    with hold_lease(store, "harvest:a", "second", ttl_s=60) as held:
        assert held is None
    assert _row(store, "harvest:a")[0] == "first"  # type: ignore[index]


def test_a_lease_taken_over_is_reported_lost_and_not_released(store: Engine) -> None:
    lost = threading.Event()
    held = HeldLease(store, "harvest:a", "stalled", ttl_s=60, renew_every_s=0.05, on_lost=lost.set)
    assert acquire_lease(store, "harvest:a", "stalled", ttl_s=60)
    held.start()
    _expire(store, "harvest:a")
    assert acquire_lease(store, "harvest:a", "successor", ttl_s=60)
    assert lost.wait(10), "the heartbeat did not notice the takeover"
    assert held.lost.is_set()
    held.release()
    assert _row(store, "harvest:a")[0] == "successor", "releasing must not free another's lease"  # type: ignore[index]


def test_owner_tokens_name_the_process_and_are_unique_per_acquisition() -> None:
    base = process_owner()
    host, _, pid = base.rpartition(":")
    assert host and pid.isdigit()
    a, b = new_owner_token(), new_owner_token()
    assert a != b
    assert a.startswith(base + "/") and b.startswith(base + "/")


def test_a_dead_local_holders_lease_is_reclaimed_at_once(store: Any) -> None:
    import socket
    import subprocess
    import sys

    from harvester.store.leases import reclaim_dead_local_lease

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_owner = f"{socket.gethostname()}:{dead.stdout.strip()}/cafebabe"
    assert acquire_lease(store, "harvest:x", dead_owner, ttl_s=300)
    assert acquire_lease(store, "harvest:x", "me:1/a", ttl_s=300) is False
    with hold_lease(store, "harvest:x", "other-owner/1") as held:
        assert held is not None, "a lease of a process that no longer exists must be taken over"
    # a live local holder (this process) and a remote one are left alone
    alive_owner = f"{socket.gethostname()}:{os.getpid()}/live"
    assert acquire_lease(store, "harvest:y", alive_owner, ttl_s=300)
    assert reclaim_dead_local_lease(store, "harvest:y") is False
    assert acquire_lease(store, "harvest:z", "far-away.example:99999999/r", ttl_s=300)
    assert reclaim_dead_local_lease(store, "harvest:z") is False
