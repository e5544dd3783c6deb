"""Datestamps that make incremental harvesting exact, remembered beside the input.

A spreadsheet has no record history, so the publisher keeps one: per identifier the hash of
the row and the datestamp it was given, plus the identifiers that disappeared (persistent
deleted records, OAI-PMH 2.0 section 2.5.1).  An unchanged row keeps its datestamp; a new or
edited row is dated when it changed.  That moment is taken from the file's modification time,
but never earlier than the last moment the old content was known to be current: a harvester
asks ``from`` its previous visit, so a change must never be dated before that visit, even
when a copied file carries an old modification time.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import InputError

STATE_FORMAT = "ichlinks-publish-state"
STATE_VERSION = 1


def state_path(input_path: Path) -> Path:
    """``.INPUT.ichlinks-state.json`` in the input's own folder (hidden, so a folder input
    never mistakes it for an item)."""
    return input_path.parent / f".{input_path.name}.ichlinks-state.json"


def to_second(moment: datetime) -> datetime:
    """OAI-PMH datestamps here have seconds granularity; keep no finer time than they show."""
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@dataclass(frozen=True)
class ItemState:
    sha256: str
    datestamp: datetime


@dataclass
class PublishState:
    items: dict[str, ItemState] = field(default_factory=dict)
    deleted: dict[str, datetime] = field(default_factory=dict)
    checked_at: datetime | None = None
    token_key: str = field(default_factory=lambda: secrets.token_hex(32))
    namespace: str | None = None  # of the OAI identifiers, fixed at the first publication

    def earliest(self) -> datetime | None:
        stamps = [s.datestamp for s in self.items.values()] + list(self.deleted.values())
        return min(stamps) if stamps else None

    def as_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT, "version": STATE_VERSION,
            "checked_at": _iso(self.checked_at) if self.checked_at else None,
            "token_key": self.token_key,
            "namespace": self.namespace,
            "items": {k: {"sha256": v.sha256, "datestamp": _iso(v.datestamp)}
                      for k, v in sorted(self.items.items())},
            "deleted": {k: _iso(v) for k, v in sorted(self.deleted.items())},
        }


def load_state(path: Path) -> PublishState:
    """The saved state, or a fresh one when there is none yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PublishState()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
        if data.get("format") != STATE_FORMAT or data.get("version") != STATE_VERSION:
            raise ValueError(f"not a version {STATE_VERSION} {STATE_FORMAT} file")
        return PublishState(
            items={k: ItemState(v["sha256"], _parse(v["datestamp"]))
                   for k, v in data["items"].items()},
            deleted={k: _parse(v) for k, v in data["deleted"].items()},
            checked_at=_parse(data["checked_at"]) if data.get("checked_at") else None,
            token_key=str(data["token_key"]),
            namespace=data.get("namespace"),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path} is damaged ({exc}); move it away to start a new history "
                         "(harvesters will then fetch every record again, and records deleted "
                         "so far are forgotten)") from exc


def save_state(path: Path, state: PublishState) -> None:
    """Write atomically: a crash mid-write must not lose the history."""
    text = json.dumps(state.as_json(), ensure_ascii=False, indent=1)
    fd, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Observed:
    """A row as read now: its content hash, its own ``modified`` date, its file's mtime."""

    sha256: str
    mtime: datetime
    modified: datetime | None = None


@dataclass
class Changes:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.updated or self.deleted or self.restored)


def reconcile(previous: PublishState, observed: Mapping[str, Observed], *, now: datetime,
              input_mtime: datetime, known_until: datetime | None = None,
              ) -> tuple[PublishState, Changes]:
    """The next state: datestamps kept, given or assigned; vanished rows become deletions.

    ``known_until`` is the last moment the previous content was seen current (defaults to
    the saved ``checked_at``).  A row's own ``modified`` date is used when it is plausible as
    the time of this change (after ``known_until``, not in the future); otherwise the change
    is dated by the file time, clamped to ``(known_until, now]``.
    """
    now = to_second(now)
    floor = known_until if known_until is not None else previous.checked_at

    def changed_at(mtime: datetime) -> datetime:
        moment = mtime if floor is None else max(mtime, floor)
        return min(to_second(moment), now)

    items: dict[str, ItemState] = {}
    deleted = dict(previous.deleted)
    changes = Changes()
    for key, seen in observed.items():
        before = previous.items.get(key)
        if before is not None and before.sha256 == seen.sha256:
            items[key] = before
            continue
        if seen.modified is not None and (floor is None or seen.modified > floor) \
                and seen.modified <= now:
            stamp = to_second(seen.modified)
        else:
            stamp = changed_at(seen.mtime)
        items[key] = ItemState(seen.sha256, stamp)
        if before is not None:
            changes.updated.append(key)
        elif deleted.pop(key, None) is not None:
            changes.restored.append(key)
        else:
            changes.new.append(key)
    gone_at = changed_at(input_mtime)
    for key in previous.items.keys() - observed.keys():
        deleted[key] = gone_at
        changes.deleted.append(key)
    changes.deleted.sort()
    return PublishState(items, deleted, now, previous.token_key, previous.namespace), changes
