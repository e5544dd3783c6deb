"""ichlinks publish: datestamps and deletions remembered beside the input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from harvester.publishing import (InputError, ItemState, Observed, PublishState, load_state,
                                  reconcile, save_state, state_path)

UTC = timezone.utc
T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_state_file_sits_beside_the_input_hidden(tmp_path: Path) -> None:
    assert state_path(tmp_path / "inventory.xlsx") == tmp_path / ".inventory.xlsx.ichlinks-state.json"
    assert state_path(tmp_path / "items") == tmp_path / ".items.ichlinks-state.json"


def test_first_reading_dates_rows_by_their_modified_column_or_the_file() -> None:
    state, changes = reconcile(PublishState(), {
        "a": Observed("h-a", mtime=at(0)),
        "b": Observed("h-b", mtime=at(0), modified=datetime(2019, 5, 1, tzinfo=UTC)),
        "c": Observed("h-c", mtime=at(0), modified=at(60)),  # in the future: not believed
    }, now=at(1.5), input_mtime=at(0))
    assert sorted(changes.new) == ["a", "b", "c"] and not changes.updated and not changes.deleted
    assert state.items["a"] == ItemState("h-a", at(0))
    assert state.items["b"].datestamp == datetime(2019, 5, 1, tzinfo=UTC)
    assert state.items["c"].datestamp == at(0)
    assert state.checked_at == at(1.5)
    assert state.earliest() == datetime(2019, 5, 1, tzinfo=UTC)


def test_unchanged_rows_keep_their_datestamp_edited_new_and_deleted_rows_are_dated() -> None:
    first, _ = reconcile(PublishState(), {k: Observed(f"h-{k}", at(0)) for k in "abc"},
                         now=at(1), input_mtime=at(0))
    second, changes = reconcile(first, {
        "a": Observed("h-a", at(10)),            # same content, the file was saved again
        "b": Observed("h-b-edited", at(10)),
        "d": Observed("h-d", at(10)),
    }, now=at(20), input_mtime=at(10))
    assert (changes.new, changes.updated, changes.deleted) == (["d"], ["b"], ["c"])
    assert second.items["a"].datestamp == at(0)
    assert second.items["b"].datestamp == at(10) and second.items["d"].datestamp == at(10)
    assert second.deleted == {"c": at(10)}
    assert "c" not in second.items

    # a deletion is persistent: it stays through later readings, until the row comes back
    third, changes = reconcile(second, {k: Observed(v.sha256, at(10)) for k, v in second.items.items()},
                               now=at(30), input_mtime=at(10))
    assert not changes and third.deleted == {"c": at(10)}
    fourth, changes = reconcile(third, {**{k: Observed(v.sha256, at(10)) for k, v in third.items.items()},
                                        "c": Observed("h-c", at(40))}, now=at(41), input_mtime=at(40))
    assert changes.restored == ["c"] and "c" not in fourth.deleted
    assert fourth.items["c"].datestamp == at(40)


def test_a_change_is_never_dated_before_the_old_content_was_last_seen() -> None:
    """A copied file can carry an old mtime; a harvester that visited in between would miss
    the change if it were dated by that mtime."""
    first, _ = reconcile(PublishState(), {"a": Observed("h-a", at(0)), "b": Observed("h-b", at(0))},
                         now=at(1), input_mtime=at(0))
    later, _ = reconcile(first, {"a": Observed("h-a2", at(-500))}, now=at(90),
                         input_mtime=at(-500), known_until=at(60))
    assert later.items["a"].datestamp == at(60)
    assert later.deleted["b"] == at(60)
    # ... and a stale modified column does not hide an edit either
    stale, _ = reconcile(first, {"a": Observed("h-a3", at(70), modified=datetime(2019, 1, 1, tzinfo=UTC)),
                                 "b": Observed("h-b", at(0))}, now=at(90), input_mtime=at(70))
    assert stale.items["a"].datestamp == at(70)
    # a modified date after the last visit is the partner's own, more precise, word
    fresh, _ = reconcile(first, {"a": Observed("h-a4", at(80), modified=at(75)),
                                 "b": Observed("h-b", at(0))}, now=at(90), input_mtime=at(80))
    assert fresh.items["a"].datestamp == at(75)


def test_datestamps_have_whole_seconds() -> None:
    state, _ = reconcile(PublishState(), {"a": Observed("h", T0 + timedelta(seconds=1.75))},
                         now=T0 + timedelta(seconds=5.5), input_mtime=T0)
    assert state.items["a"].datestamp == T0 + timedelta(seconds=1)
    assert state.checked_at == T0 + timedelta(seconds=5)


def test_save_and_load_round_trip_and_keep_the_token_key(tmp_path: Path) -> None:
    path = tmp_path / ".x.ichlinks-state.json"
    assert load_state(path).items == {}
    state, _ = reconcile(PublishState(), {"VN-1": Observed("h1", at(0)), "KR/2": Observed("h2", at(0))},
                         now=at(1), input_mtime=at(0))
    state.namespace = "vicas"
    state, _ = reconcile(state, {"VN-1": Observed("h1", at(0))}, now=at(2), input_mtime=at(2))
    save_state(path, state)
    loaded = load_state(path)
    assert loaded.items == state.items and loaded.deleted == state.deleted
    assert loaded.checked_at == state.checked_at and loaded.token_key == state.token_key
    assert loaded.namespace == "vicas"
    assert len(bytes.fromhex(loaded.token_key)) == 32
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["deleted"] == {"KR/2": "2026-03-01T09:02:00Z"}


def test_a_damaged_state_file_is_an_input_error_not_a_silent_reset(tmp_path: Path) -> None:
    path = tmp_path / ".x.ichlinks-state.json"
    path.write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(InputError, match="damaged"):
        load_state(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="damaged"):
        load_state(path)
