"""The benchmark (``python -m bench``): a small smoke run and the parts its figures rest on.

No timing is asserted here: speed is what the benchmark reports, not what tests decide.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # bench/ is a tool at the top of the repository, not installed
    sys.path.insert(0, str(REPO_ROOT))

from bench.floor import run_floor  # noqa: E402
from bench.pages import digest  # noqa: E402
from bench.report import cpu_budget, render_table  # noqa: E402
from bench.repository import SyntheticRepository, initial_full_list  # noqa: E402

STEPS = ("floor", "naive", "full", "unchanged", "incremental", "remap", "floor_again", "reindex",
         "index_floor")


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ICHLINKS_")}


def test_smoke_run_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--n", "300", "--rss-sizes", "200,300",
                           "--out", str(out)], cwd=REPO_ROOT, env=_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))

    assert result["n"] == 300 and result["store"] == "sqlite"
    assert result["provider"]["records"] == 300 and result["provider"]["deleted"] == 15
    assert 1800 < result["provider"]["avg_record_bytes"] < 2800
    for key in ("cpu_model", "cores", "ram_gib", "python", "load_average_start", "load_average_end"):
        assert result["machine"][key], key
    for name in STEPS:
        step = result["steps"][name]
        assert step["seconds"] > 0, name
        if name != "incremental":
            assert step["records_per_s"] > 0, name
    assert result["steps"]["floor"]["mb_per_s"] > 0
    assert result["steps"]["floor"]["digest"] == result["provider"]["digest"]
    for name in ("full", "unchanged"):
        assert result["steps"][name]["records"] == 300
        assert result["steps"][name]["ratio_to_naive"] > 0 and result["steps"][name]["ratio_to_floor"] > 0
        assert result["steps"][name]["peak_rss_mb"] > 10
    incremental = result["steps"]["incremental"]
    assert incremental["changed"] == 3 and incremental["records"] == 3 and incremental["requests"] == 2
    assert result["steps"]["remap"]["records"] == 300 and result["steps"]["reindex"]["records"] == 285
    index_floor = result["steps"]["index_floor"]
    assert index_floor["records"] == 285 and index_floor["batch"] == 1000
    assert index_floor["cpu_s"] > 0 and index_floor["build_cpu_s"] > 0
    budget = result["budget"]
    assert budget["cores"] == result["machine"]["usable_cores"] and budget["target_ratio"] == 2.0
    naive_rate = result["steps"]["naive"]["records_per_s"]
    assert budget["allowed_us"] == round(budget["cores"] * 1e6 / (2.0 * naive_rate), 1)
    assert budget["full_pipeline_us"] == round(result["steps"]["full"]["cpu_s"] * 1e6 / 300, 1)
    assert budget["index_write_us"] == round(index_floor["cpu_s"] * 1e6 / 300, 1)
    assert f"leaves {budget['allowed_us']:,.0f} us for everything" in done.stdout
    drift = result["drift"]
    again = result["steps"]["floor_again"]
    assert again["records"] == 300 and again["digest"] == result["steps"]["floor"]["digest"]
    assert drift["floor_start"] == result["steps"]["floor"]["records_per_s"]
    assert drift["floor_beside_remap"] == again["records_per_s"]
    assert drift["change"] == round(again["records_per_s"] / drift["floor_start"] - 1, 3)
    assert result["steps"]["remap"]["ratio_to_floor"] == round(
        result["steps"]["remap"]["records_per_s"] / again["records_per_s"], 3)
    assert f"{again['records_per_s']:,.0f} beside remap ({drift['change']:+.0%})" in done.stdout
    runs = [(r["n"], r["from"]) for r in result["rss"]["runs"]]
    assert runs == [(200, "separate run"), (300, "full pipeline step")]
    assert all(r["peak_rss_mb"] > 10 for r in result["rss"]["runs"])
    assert result["checks"] and all(c["ok"] for c in result["checks"]), result["checks"]

    verdicts = {t["name"]: t for t in result["targets"]}
    assert set(verdicts) == {"full_vs_naive", "unchanged_vs_naive", "remap_rate", "rss_flat", "rss_bound"}
    for verdict in verdicts.values():
        assert verdict["status"] in ("PASS", "MISS") and verdict["value"] is not None
    ratio = result["steps"]["full"]["ratio_to_naive"]
    assert verdicts["full_vs_naive"]["status"] == ("PASS" if ratio >= 2.0 else "MISS")
    for verdict in verdicts.values():  # the printed table says the same as the JSON
        assert re.search(re.escape(verdict["target"]) + r"\s+\S+.*\s" + verdict["status"], done.stdout)


def test_pages_are_deterministic_and_the_floor_parses_them() -> None:
    first, second = SyntheticRepository(250), SyntheticRepository(250)
    assert first.describe()["digest"] == second.describe()["digest"]
    assert digest(initial_full_list(250)) == first.describe()["digest"]
    floor = run_floor(first.full_list())
    assert (floor.records, floor.deleted, floor.pages) == (250, first.deleted, 3)
    assert floor.deleted == len(range(7, 250, 20)) and floor.fields > 15 * (250 - floor.deleted)

    identify = first.answer({"verb": ["Identify"]}).body.decode()
    assert "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>" in identify
    assert "<deletedRecord>persistent</deletedRecord>" in identify


def test_a_change_lands_exactly_in_the_next_incremental_window() -> None:
    repo = SyntheticRepository(400)
    before = repo.describe()
    changed = repo.change(0.01)
    assert len(changed) == 4
    # The harvester asks from the last responseDate less one second (its documented rule).
    window = repo.answer({"verb": ["ListRecords"], "metadataPrefix": ["oai_dc"],
                          "from": ["2024-12-31T23:59:59Z"]}).body.decode()
    assert re.findall(r"<identifier>([^<]+)</identifier>", window) == changed
    assert window.count("Revised entry") == 4
    assert repo.describe()["digest"] != before["digest"]
    again = repo.answer({"verb": ["ListRecords"], "metadataPrefix": ["oai_dc"], "from": ["2025-01-02"]})
    assert again.oai_error == "noRecordsMatch"


def test_peak_rss_is_each_childs_own(tmp_path: Path) -> None:
    # Measured from a fresh, small process like `python -m bench`: a child's peak RSS starts at
    # its parent's (Linux records the parent's high-water mark at exec), so measuring from
    # inside a large pytest process would say nothing about the children.
    script = (
        "import json, sys; from pathlib import Path; from bench.rss import run_measured\n"
        "cwd = Path(sys.argv[1])\n"
        "big = run_measured([sys.executable, '-c', \"b = bytearray(160 * 2**20); "
        "b[::4096] = b'x' * len(b[::4096])\"], cwd=cwd, env={})\n"
        "small = run_measured([sys.executable, '-c', 'pass'], cwd=cwd, env={})\n"
        "print(json.dumps([big.returncode, big.peak_rss_mb, small.returncode, small.peak_rss_mb]))\n")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                          timeout=120, env=_env(), cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    big_rc, big_mb, small_rc, small_mb = json.loads(proc.stdout)
    assert big_rc == 0 and small_rc == 0
    assert big_mb >= 160
    assert small_mb < 100  # not the maximum over every child reaped so far


def test_the_cpu_budget_divides_the_target_rate_among_the_cores() -> None:
    machine = {"usable_cores": 2, "cpu_model": "x", "ram_gib": 1, "python": "3",
               "load_average_start": [0.0], "load_average_end": [0.0]}
    result = {"n": 1000, "store": "sqlite", "machine": machine,
              "provider": {"deleted": 50, "bytes": 2_000_000, "pages": 10, "avg_record_bytes": 2000},
              "steps": {"floor": {"label": "floor", "records_per_s": 40_000.0},
                        "naive": {"label": "naive", "records_per_s": 8_000.0},
                        "full": {"label": "full", "cpu_s": 0.7},
                        "index_floor": {"label": "index floor", "cpu_s": 0.11, "build_cpu_s": 0.05}},
              "targets": [], "checks": []}
    budget = cpu_budget(result)
    # 2.0x naive is 16,000 records/s; two cores then give each record 2 / 16,000 s of CPU.
    assert budget == {"target_ratio": 2.0, "cores": 2, "allowed_us": 125.0, "full_pipeline_us": 700.0,
                      "index_write_us": 110.0, "index_documents_us": 50.0, "parse_floor_us": 25.0}
    result["budget"] = budget
    table = render_table(result)
    assert "2.0x naive on 2 cores leaves 125 us for everything; the full pipeline spent 700 us" in table
    assert "tantivy's own indexing 110 us (index floor)" in table

    del result["steps"]["naive"]
    assert cpu_budget(result) is None
