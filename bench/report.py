"""Targets, PASS/MISS verdicts, the printed table and the JSON file.

The targets come from the issue and are judged on figures measured in the same run
(ratios to the naive loop and the floor on the same machine at the same moment).  A
target whose figures were not measured (``--skip-rss``) is SKIP, never PASS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    text: str
    measure: Callable[[dict[str, Any]], float | None]
    passes: Callable[[float], bool]
    unit: str


def _step(name: str, key: str) -> Callable[[dict[str, Any]], float | None]:
    def get(result: dict[str, Any]) -> float | None:
        value = result["steps"].get(name, {}).get(key)
        return float(value) if value is not None else None
    return get


def _rss(pick: Callable[[dict[str, Any]], float | None]) -> Callable[[dict[str, Any]], float | None]:
    def get(result: dict[str, Any]) -> float | None:
        rss = result.get("rss") or {}
        if len(rss.get("runs", [])) < 2:
            return None
        return pick(rss)
    return get


def _rss_growth(rss: dict[str, Any]) -> float | None:
    small, large = rss["runs"][0]["peak_rss_mb"], rss["runs"][-1]["peak_rss_mb"]
    return round(large / small, 3) if small else None


def _rss_largest(rss: dict[str, Any]) -> float | None:
    return float(rss["runs"][-1]["peak_rss_mb"])


FULL_VS_NAIVE = 2.0
DRIFT_WARNING = 0.10  # a floor that moved more than this within a run is worth a word

TARGETS = (
    Target("full_vs_naive", f"full pipeline >= {FULL_VS_NAIVE}x naive", _step("full", "ratio_to_naive"),
           lambda v: v >= FULL_VS_NAIVE, "x"),
    Target("unchanged_vs_naive", "unchanged re-harvest >= 4.0x naive",
           _step("unchanged", "ratio_to_naive"), lambda v: v >= 4.0, "x"),
    Target("remap_rate", "remap >= 10,000 records/s", _step("remap", "records_per_s"),
           lambda v: v >= 10_000, "rec/s"),
    Target("rss_flat", "peak RSS at largest N <= 1.2x at smallest N", _rss(_rss_growth),
           lambda v: v <= 1.2, "x"),
    Target("rss_bound", "peak RSS at largest N < 300 MB", _rss(_rss_largest),
           lambda v: v < 300, "MB"),
)


def judge(result: dict[str, Any]) -> list[dict[str, Any]]:
    verdicts = []
    for target in TARGETS:
        value = target.measure(result)
        status = "SKIP" if value is None else "PASS" if target.passes(value) else "MISS"
        verdicts.append({"name": target.name, "target": target.text, "value": value,
                         "unit": target.unit, "status": status})
    rss = result.get("rss") or {}
    runs = rss.get("runs", [])
    if len(runs) >= 2:  # name the sizes actually measured
        sizes = f"N={runs[-1]['n']:,} vs N={runs[0]['n']:,}"
        for v in verdicts:
            if v["name"] == "rss_flat":
                v["target"] = f"peak RSS {sizes} <= 1.2x"
            if v["name"] == "rss_bound":
                v["target"] = f"peak RSS at N={runs[-1]['n']:,} < 300 MB"
    return verdicts


def cpu_budget(result: dict[str, Any]) -> dict[str, Any] | None:
    """CPU a harvested record may cost for the full pipeline to reach its target, beside what
    the measured floors say parts of it cost at least; microseconds per record of N.

    The naive loop's rate fixes the target's rate, and on ``cores`` cores that rate leaves
    ``cores / rate`` seconds of CPU per record for fetching, parsing, storing, mapping and
    indexing together.  ``None`` when the figures it needs were not measured.
    """
    steps, n = result["steps"], result["n"]
    naive = steps.get("naive", {}).get("records_per_s")
    cores = result["machine"].get("usable_cores")
    if not naive or not cores or not n:
        return None

    def per_record(name: str, key: str = "cpu_s") -> float | None:
        value = steps.get(name, {}).get(key)
        return round(value * 1e6 / n, 1) if value is not None else None

    floor = steps.get("floor", {}).get("records_per_s")
    return {"target_ratio": FULL_VS_NAIVE, "cores": cores,
            "allowed_us": round(cores * 1e6 / (FULL_VS_NAIVE * naive), 1),
            "full_pipeline_us": per_record("full"),
            "index_write_us": per_record("index_floor"),
            "index_documents_us": per_record("index_floor", "build_cpu_s"),
            "parse_floor_us": round(1e6 / floor, 1) if floor else None}


def _budget_lines(budget: dict[str, Any] | None) -> list[str]:
    if not budget:
        return []
    lines = [f"CPU per record of N: {budget['target_ratio']}x naive on {budget['cores']} cores leaves "
             f"{_num(budget['allowed_us'])} us for everything; the full pipeline spent "
             f"{_num(budget['full_pipeline_us'])} us."]
    if budget.get("index_write_us") is not None:
        lines.append(f"  floors inside that: tantivy's own indexing {_num(budget['index_write_us'])} us "
                     f"(index floor), lxml parsing {_num(budget['parse_floor_us'])} us (parse floor); "
                     f"building the index documents in Python {_num(budget['index_documents_us'])} us more")
    return lines


def machine_drift(result: dict[str, Any]) -> dict[str, Any] | None:
    """The parse floor at the start and again beside remap: how much the machine's speed moved.

    Ratios within one run are robust to it; remap's absolute target is not.
    """
    steps = result["steps"]
    start = (steps.get("floor") or {}).get("records_per_s")
    again = (steps.get("floor_again") or {}).get("records_per_s")
    if not start or not again:
        return None
    return {"floor_start": start, "floor_beside_remap": again, "change": round(again / start - 1, 3)}


def _drift_lines(drift: dict[str, Any] | None) -> list[str]:
    if not drift:
        return []
    line = (f"machine drift: parse floor {_num(drift['floor_start'])} rec/s at the start, "
            f"{_num(drift['floor_beside_remap'])} beside remap ({drift['change']:+.0%})")
    if abs(drift["change"]) > DRIFT_WARNING:
        line += "; remap's absolute figure depends on the moment, its ratio to the floor less"
    return [line]


def _num(value: Any, fmt: str = ",.0f") -> str:
    if value is None:
        return "-"
    return format(value, fmt)


def render_table(result: dict[str, Any]) -> str:
    m = result["machine"]
    p = result["provider"]
    lines = [
        f"ichLinks harvest benchmark: N={result['n']:,} ({p['deleted']:,} deleted, "
        f"{p['bytes'] / 1e6:,.1f} MB in {p['pages']:,} pages, {p['avg_record_bytes']:,.0f} B/record), "
        f"store {result['store']}",
        f"{m['cpu_model']}, {m['usable_cores']} cores, {m['ram_gib']} GiB, Python {m['python']}, "
        f"load {'/'.join(map(str, m['load_average_start']))} -> {'/'.join(map(str, m.get('load_average_end', [])))}",
        "",
        f"{'step':<31}{'records':>8}{'seconds':>9}{'CPU s':>7}{'rec/s':>9}{'MB/s':>6}{'requests':>9}"
        f"{'peak RSS':>10}  ratio",
    ]
    for name, step in result["steps"].items():
        ratio = []
        if step.get("ratio_to_naive") is not None:
            ratio.append(f"{step['ratio_to_naive']:.3g}x naive")
        if step.get("ratio_to_floor") is not None:
            ratio.append(f"{step['ratio_to_floor']:.3g}x floor")
        rss = f"{step['peak_rss_mb']:,.0f} MB" if step.get("peak_rss_mb") is not None else "-"
        lines.append(f"{step['label']:<31}{_num(step.get('records')):>8}"
                     f"{_num(step.get('seconds'), ',.2f'):>9}{_num(step.get('cpu_s'), ',.1f'):>7}"
                     f"{_num(step.get('records_per_s')):>9}"
                     f"{_num(step.get('mb_per_s'), ',.1f'):>6}{_num(step.get('requests')):>9}"
                     f"{rss:>10}  {', '.join(ratio)}".rstrip())
    inside = [f"  {step['label']:<29}{step['cli']['duration_s']:>10,.2f} s of {step['seconds']:,.2f} s"
              for step in result["steps"].values()
              if isinstance(step.get("cli"), dict) and step["cli"].get("duration_s") is not None]
    if inside:
        lines += ["harvest + crosswalk as timed inside the CLI (duration_s; the rest of the wall time is "
                  "start-up and the index relay):", *inside]
    rss_runs = (result.get("rss") or {}).get("runs", [])
    for run in rss_runs:
        lines.append(f"{'peak RSS, harvest --full':<24}{'N=' + format(run['n'], ','):>15}"
                     f"{_num(run['seconds'], ',.2f'):>9}{'':>7}{_num(run['records_per_s']):>9}"
                     f"{'':>6}{'':>9}{run['peak_rss_mb']:>7,.0f} MB")
    under = _budget_lines(result.get("budget")) + _drift_lines(result.get("drift"))
    if under:
        lines += ["", *under]
    lines += ["", f"{'target':<46}{'measured':>14}  verdict"]
    for v in result["targets"]:
        value = "-" if v["value"] is None else (f"{v['value']:,.0f} {v['unit']}" if v["unit"] != "x"
                                                else f"{v['value']:.2f}x")
        lines.append(f"{v['target']:<46}{value:>14}  {v['status']}")
    failed = [c for c in result["checks"] if not c["ok"]]
    lines.append("")
    if failed:
        lines.append(f"CHECKS FAILED ({len(failed)} of {len(result['checks'])}): the figures above may be wrong")
        lines += [f"  - {c['name']}: {c['detail']}" for c in failed]
    else:
        lines.append(f"all {len(result['checks'])} consistency checks passed "
                     "(counts, requests, digests, index)")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
