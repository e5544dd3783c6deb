"""Check and coalesce a batch of outbox ops before any engine sees it.

Both backends report each id exactly once (done or failed), so a batch holding
several ops for one record is reduced to the highest version: the lower ones are
stale by definition and share the outcome of the one that supersedes them.  An
id with a malformed op fails as a whole, so nothing about it is half-applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .contract import IndexOp

ACTIONS = ("upsert", "delete")
# Elasticsearch external versions must lie in [0, 2**63 - 1).
MAX_VERSION = 2**63 - 2


def op_problem(op: IndexOp) -> str | None:
    """Why ``op`` cannot be applied, or ``None``."""
    if op.action not in ACTIONS:
        return f"unknown action {op.action!r}"
    if isinstance(op.version, bool) or not isinstance(op.version, int):
        return f"version must be an integer, not {type(op.version).__name__}"
    if not 0 <= op.version <= MAX_VERSION:
        return f"version {op.version} out of range"
    if op.action == "upsert":
        if not isinstance(op.record, Mapping):
            return "upsert without a record"
        if op.record.get("id") != op.id:
            return f"record id {op.record.get('id')!r} differs from op id"
    return None


def coalesce(ops: Sequence[IndexOp]) -> tuple[list[IndexOp], list[tuple[str, str]]]:
    """(one winning op per valid id in first-seen order, [(id, reason)] for invalid ids)."""
    winners: dict[str, IndexOp] = {}
    invalid: dict[str, str] = {}
    for op in ops:
        op_id = op.id if isinstance(op.id, str) else repr(op.id)
        if not isinstance(op.id, str) or not op.id:
            invalid[op_id] = "op without a record id"
            continue
        problem = op_problem(op)
        if problem is not None:
            invalid.setdefault(op_id, problem)
            continue
        current = winners.get(op_id)
        if current is None or op.version > current.version:
            winners[op_id] = op
    for op_id in invalid:
        winners.pop(op_id, None)
    return list(winners.values()), list(invalid.items())
