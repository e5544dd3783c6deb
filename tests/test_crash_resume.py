"""kill -9 at random moments, restart: store and index end with exactly the provider's records.

Each seed kills ``ichlinks harvest`` (a real subprocess) at a random time while it pages
through a slow provider, then runs it again until one run completes.  CI runs a few seeds
per store; ICHLINKS_CRASH_SEEDS=20 runs the long version, and ICHLINKS_CRASH_SEED_START=100
moves it on to seeds no earlier run has tried.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from oai_fixtures import delay, make_records
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from harvester.store.models import RawRecord
from indexer import SearchQuery, SearchSettings, open_backend
from mappings import record_id

SEEDS = int(os.environ.get("ICHLINKS_CRASH_SEEDS", "3"))
SEED_START = int(os.environ.get("ICHLINKS_CRASH_SEED_START", "0"))


def _write_config(tmp_path: Path, url: str, store_url: str, full: bool = False) -> Path:
    cfg = tmp_path / "ichlinks.yaml"
    cfg.write_text(
        f"store: \"{store_url}\"\n"
        f"search: {{backend: embedded, path: \"{tmp_path / 'index'}\"}}\n"
        "sources:\n"
        "  crash-src:\n"
        f"    url: {url}\n"
        "    partner: {name: Crash test partner, country: KR}\n"
        "    retries: 2\n"
        "    max_backoff_s: 0.1\n", encoding="utf-8")
    return cfg


def _harvest_cmd(cfg: Path) -> list[str]:
    return [sys.executable, "-m", "harvester.cli", "--config", str(cfg), "harvest", "--json"]


@pytest.mark.parametrize("seed", range(SEED_START, SEED_START + SEEDS))
def test_killed_harvests_resume_to_the_exact_record_set(store_url: str, oai_server: Any,
                                                        tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    records = make_records(240, deleted_every=7)
    server = oai_server(records, page_size=10, faults=[delay(0.02, times=None)])
    cfg = _write_config(tmp_path, server.base_url, store_url)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    kills = 0
    failures: list[str] = []
    for _attempt in range(40):
        proc = subprocess.Popen(_harvest_cmd(cfg), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, text=True)
        if kills < 4:
            time.sleep(rng.uniform(0.3, 2.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                try:
                    proc.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    pytest.fail("processes forked by the killed harvest outlived it by 30 s, "
                                "holding its pipes open")
                kills += 1
                continue
        out, err = proc.communicate(timeout=300)
        if proc.returncode == 0:
            summary = json.loads(out.strip().splitlines()[-1])
            assert summary["status"] == "ok"
            break
        failures.append(f"exit {proc.returncode}: {err.strip()[-2000:]}")
    else:
        pytest.fail("the harvest never completed; the last runs said:\n" + "\n".join(failures[-3:]))
    assert kills >= 1, "no run was killed: the kill window missed the harvest"
    engine = create_engine(store_url)
    try:
        with Session(engine) as s:
            rows = s.execute(select(RawRecord.identifier, RawRecord.deleted)
                             .where(RawRecord.source == "crash-src")).all()
            total = s.scalar(select(func.count()).select_from(RawRecord))
    finally:
        engine.dispose()
    assert total == len(records), "duplicates or strays in the store"
    assert {i: d for i, d in rows} == {r.identifier: r.deleted for r in records}
    # ... and the index holds exactly the live records: none lost, none stale, none deleted
    expected_ids = {record_id("crash-src", r.identifier) for r in records if not r.deleted}
    backend = open_backend(SearchSettings(path=str(tmp_path / "index")))
    try:
        assert backend.count() == len(expected_ids)
        indexed: set[str] = set()
        for offset in range(0, len(expected_ids), 100):
            page = backend.search(SearchQuery(q="", facets=False, limit=100, offset=offset))
            indexed.update(hit["id"] for hit in page["results"])
    finally:
        backend.close()
    assert indexed == expected_ids
