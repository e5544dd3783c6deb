"""``ichlinks record``: where one record stands, and the fix it names really moves it on.

Each state is reached the way it happens in operation (a harvest, a harvest without the
relay, a lost index, a locked index, an edited crosswalk), on SQLite and PostgreSQL, from a
real provider over HTTP; then the command the verdict names is run and the record followed.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import tantivy
from cli_support import ichlinks, write_config
from oai_fixtures import make_records
from sqlalchemy import create_engine, text

from harvester.provider import ProviderRecord
from indexer.embedded import generations
from mappings import record_id

_DC = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/">{}</oai_dc:dc>')
NO_TITLE = ProviderRecord(identifier="oai:ichlinks.test:no-title",
                          datestamp=datetime(2030, 1, 1, tzinfo=timezone.utc),
                          metadata={"oai_dc": _DC.format("<dc:type>Intangible cultural heritage</dc:type>"
                                                         "<dc:description>Untitled</dc:description>")})
FIRST = "oai:ichlinks.test:ich-00000"
DELETED = "oai:ichlinks.test:ich-00002"  # make_records(.., deleted_every=3): the third


def trace(cfg: Path, key: str, *args: str) -> dict[str, Any]:
    proc = ichlinks("record", key, "--json", *args, cfg=cfg)
    assert proc.returncode == 0, proc.stderr
    (only,) = json.loads(proc.stdout)
    return only


def test_published_quarantined_and_deleted_records_say_where_they_stand(
        store_url: str, oai_server: Any, tmp_path: Path) -> None:
    server = oai_server(make_records(6, deleted_every=3) + [NO_TITLE])
    cfg = write_config(tmp_path, store_url, {"vn-test": server.base_url})
    assert ichlinks("harvest", cfg=cfg).returncode == 0

    first = trace(cfg, FIRST)
    assert first["id"] == record_id("vn-test", FIRST)
    assert first["verdict"] == "searchable"
    assert first["index"]["searchable_version"] == first["crosswalk"]["version"] >= 1
    assert first["index"]["pending"] == [] and first["notes"] == []
    assert first["harvest"]["deleted"] is False and first["harvest"]["sets"]
    assert first["crosswalk"]["record"]["oai"]["identifier"] == FIRST
    assert not first["crosswalk"]["stale"] and "xml" not in first
    by_id = trace(cfg, first["id"], "--xml")  # the id the search shows finds the same record
    assert by_id["identifier"] == FIRST and by_id["xml"].startswith("<record")

    quarantined = trace(cfg, NO_TITLE.identifier)
    assert quarantined["verdict"] == "quarantined"
    assert "missing-title" in quarantined["explanation"]
    assert quarantined["index"]["searchable_version"] is None

    deleted = trace(cfg, DELETED)
    assert deleted["verdict"] == "deleted" and deleted["harvest"]["deleted"] is True

    text_out = ichlinks("record", NO_TITLE.identifier, cfg=cfg)
    assert text_out.returncode == 0
    assert "verdict:    quarantined" in text_out.stdout
    assert "missing-title: the record has no title" in text_out.stdout

    missing = ichlinks("record", "oai:ichlinks.test:never-there", cfg=cfg)
    assert missing.returncode == 1 and "no stored record 'oai:ichlinks.test:never-there'" in missing.stderr
    assert "vn-test" in missing.stderr
    as_json = ichlinks("record", "oai:ichlinks.test:never-there", "--json", cfg=cfg)
    assert as_json.returncode == 1 and json.loads(as_json.stdout) == []
    unknown_source = ichlinks("record", FIRST, "--source", "nope", cfg=cfg)
    assert unknown_source.returncode == 2 and "unknown source 'nope'" in unknown_source.stderr


def test_index_states_and_the_commands_that_settle_them(store_url: str, oai_server: Any,
                                                        tmp_path: Path) -> None:
    server = oai_server(make_records(4))
    cfg = write_config(tmp_path, store_url, {"vn-test": server.base_url})
    assert ichlinks("harvest", "--no-index", cfg=cfg).returncode == 0
    waiting = trace(cfg, FIRST)
    assert waiting["verdict"] == "index-pending" and "ichlinks index relay" in waiting["explanation"]
    assert [p["action"] for p in waiting["index"]["pending"]] == ["upsert"]

    # Another process holds the index's writer lock: the relay's attempt fails and is told.
    root = tmp_path / "index"
    assert ichlinks("index", "status", cfg=cfg).returncode == 0  # creates the empty index
    holder = tantivy.Index.open(str(root / generations.current(root))).writer(15_000_000, 1)
    ichlinks("index", "relay", cfg=cfg)
    failing = trace(cfg, FIRST)
    assert failing["verdict"] == "index-failing"
    assert failing["index"]["pending"][0]["attempts"] == 1
    assert "locked by another writer" in failing["explanation"]
    del holder

    assert ichlinks("index", "relay", cfg=cfg).returncode == 0
    assert trace(cfg, FIRST)["verdict"] == "searchable"

    shutil.rmtree(root)  # the index is lost (a disk replaced, a directory cleaned up)
    lost = trace(cfg, FIRST)
    assert lost["verdict"] == "missing-from-index" and "ichlinks reindex" in lost["explanation"]
    assert ichlinks("reindex", cfg=cfg).returncode == 0
    assert trace(cfg, FIRST)["verdict"] == "searchable"

    # A crosswalk output row lost (restored from an older backup): harvested, not mapped.
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM ich_records WHERE id = :id"), {"id": record_id("vn-test", FIRST)})
    engine.dispose()
    unmapped = trace(cfg, FIRST)
    assert unmapped["verdict"] == "not-mapped" and unmapped["id"] is None
    assert "ichlinks remap vn-test" in unmapped["explanation"]
    assert ichlinks("remap", "vn-test", cfg=cfg).returncode == 0
    assert trace(cfg, FIRST)["verdict"] == "searchable"


def test_a_record_mapped_by_an_older_crosswalk_says_so_until_remapped(
        store_url: str, oai_server: Any, tmp_path: Path) -> None:
    server = oai_server(make_records(3))
    own = tmp_path / "vn_dc.yaml"
    own.write_text('crosswalk: vn_dc\nversion: "1"\nextends: oai_dc\n', encoding="utf-8")
    cfg = write_config(tmp_path, store_url, {"vn-test": server.base_url}, mapping=str(own))
    assert ichlinks("harvest", cfg=cfg).returncode == 0
    before = trace(cfg, FIRST)
    assert before["notes"] == [] and before["crosswalk"]["record"]["description"]

    own.write_text('crosswalk: vn_dc\nversion: "2"\nextends: oai_dc\nfields:\n  description: null\n',
                   encoding="utf-8")
    stale = trace(cfg, FIRST)
    assert stale["crosswalk"]["stale"] is True
    assert stale["crosswalk"]["mapping_version"] == before["crosswalk"]["mapping_version"]
    assert any("ichlinks remap vn-test" in note for note in stale["notes"])
    assert ichlinks("remap", "vn-test", cfg=cfg).returncode == 0
    after = trace(cfg, FIRST)
    assert after["notes"] == [] and after["crosswalk"]["record"]["description"] == []
    assert after["verdict"] == "searchable"
    assert after["index"]["searchable_version"] == after["crosswalk"]["version"] > before["crosswalk"]["version"]
