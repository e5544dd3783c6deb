"""The benchmark's steps in order, each measured the same way, gathered into one result.

floor -> naive -> full pipeline -> unchanged re-harvest -> incremental after a 1 % change
-> remap -> reindex -> index floor -> peak RSS of a full harvest at each size.  Every count
is checked against what the synthetic repository is known to hold, so a fast figure from a
run that lost records cannot pass unnoticed.
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.floor import run_floor
from bench.machine import load_average, machine_info
from bench.pages import PAGE_SIZE
from bench.pipeline import Cli, fresh_store, index_floor_run, naive_run, store_kind, write_config
from bench.provider import ProviderProcess
from bench.report import cpu_budget, judge, machine_drift
from bench.repository import initial_full_list
from bench.rss import ChildRun

DEFAULT_RSS_SIZES = (10_000, 100_000)


@dataclass(frozen=True)
class Options:
    n: int = 100_000
    store: str = "sqlite"
    rss_sizes: tuple[int, ...] = DEFAULT_RSS_SIZES
    change_fraction: float = 0.01
    timeout_s: float = 3600.0
    keep: bool = False
    log: Callable[[str], None] = field(default=lambda text: print(f"[bench] {text}", file=sys.stderr,
                                                                  flush=True))


def _rate(records: int | None, seconds: float) -> float | None:
    return round(records / seconds, 1) if records is not None and seconds > 0 else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def _cli_step(label: str, run: ChildRun, records: int, cli_json: dict[str, Any], *,
              requests: int | None = None) -> dict[str, Any]:
    return {"label": label, "records": records, "seconds": round(run.seconds, 3),
            "records_per_s": _rate(records, run.seconds), "requests": requests,
            "cpu_s": round(run.cpu_s, 2), "peak_rss_mb": run.peak_rss_mb, "cli": cli_json}


class _Checks:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def expect(self, name: str, actual: Any, expected: Any) -> None:
        self.items.append({"name": name, "ok": actual == expected,
                           "detail": f"got {actual!r}, expected {expected!r}"})

    def require(self, name: str, ok: bool, detail: str) -> None:
        self.items.append({"name": name, "ok": bool(ok), "detail": detail})


def run_benchmark(opts: Options) -> dict[str, Any]:
    """Run every step and return the result (targets judged, checks listed)."""
    if opts.n < 1:
        raise ValueError("n must be at least 1")
    log = opts.log
    workdir = Path(tempfile.mkdtemp(prefix="ichlinks-bench-"))
    result: dict[str, Any] = {
        "benchmark": "ichlinks-harvest", "format": 1,
        "started_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "n": opts.n, "store": store_kind(opts.store), "change_fraction": opts.change_fraction,
        "machine": machine_info(), "steps": {}, "rss": None, "checks": [], "targets": [],
        "workdir": str(workdir) if opts.keep else None,
    }
    checks = _Checks()
    steps: dict[str, Any] = result["steps"]
    try:
        log(f"rendering {opts.n:,} records in the provider process")
        with ProviderProcess(opts.n, log_path=workdir / "provider.log") as provider:
            info = provider.info
            deleted, live = int(info["deleted"]), opts.n - int(info["deleted"])
            result["provider"] = {**{k: v for k, v in info.items() if k != "port"},
                                  "avg_record_bytes": round(info["bytes"] / opts.n, 1)}
            _main_steps(opts, provider, workdir, steps, checks, deleted, live)
        result["rss"] = _rss_runs(opts, workdir, steps, checks)
    finally:
        result["machine"]["load_average_end"] = load_average()
        result["finished_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    result["checks"] = checks.items
    result["targets"] = judge(result)
    result["budget"] = cpu_budget(result)
    result["drift"] = machine_drift(result)
    return result


def _main_steps(opts: Options, provider: ProviderProcess, workdir: Path, steps: dict[str, Any],
                checks: _Checks, deleted: int, live: int) -> None:
    n, log = opts.n, opts.log
    pages = math.ceil(n / PAGE_SIZE)

    log("floor: lxml parse + field extraction of the same pages, from memory")
    floor = run_floor(initial_full_list(n))
    steps["floor"] = {"label": "floor (lxml, in memory)", **floor.as_json()}
    checks.expect("floor parsed exactly the served bytes (sha256)", floor.digest, provider.info["digest"])
    checks.expect("floor records", (floor.records, floor.deleted), (n, deleted))

    log("naive: a plain sickle ListRecords loop")
    before = provider.requests()
    run, naive = naive_run(provider.url, timeout_s=opts.timeout_s)
    steps["naive"] = {"label": "naive (sickle loop)", "records": naive["records"],
                      "seconds": round(run.seconds, 3), "records_per_s": _rate(naive["records"], run.seconds),
                      "loop_seconds": naive["seconds"], "requests": provider.requests() - before,
                      "cpu_s": round(run.cpu_s, 2), "peak_rss_mb": run.peak_rss_mb}
    checks.expect("naive records", (naive["records"], naive["deleted"]), (n, deleted))
    naive_rate = steps["naive"]["records_per_s"]
    floor_rate = steps["floor"]["records_per_s"]

    with fresh_store(opts.store, workdir) as store_url:
        cli = Cli(workdir, write_config(workdir, store_url, provider.url), timeout_s=opts.timeout_s)

        log("full pipeline: ichlinks harvest --full into an empty store (fetch, raw store, crosswalk, index)")
        before = provider.requests()
        run, out = cli.harvest(full=True)
        step = steps["full"] = _cli_step("full pipeline (--full)", run, out["records"], out,
                                         requests=provider.requests() - before)
        step["ratio_to_naive"] = _ratio(step["records_per_s"], naive_rate)
        step["ratio_to_floor"] = _ratio(step["records_per_s"], floor_rate)
        checks.expect("full harvest status", out["status"], "ok")
        checks.expect("full harvest counts (records, new, deleted, failed)",
                      (out["records"], out["new"], out["deleted"], out["failed"]), (n, live, deleted, 0))
        checks.require("full harvest requests (Identify + one per page)", step["requests"] >= pages + 1,
                       f"{step['requests']} requests for {pages} pages")
        status = cli.index_status()
        index = status.get("index") or {}
        checks.expect("index after full harvest (pending, documents)",
                      (status.get("pending"), index.get("doc_count")), (0, live))

        run = cli.run("status", "--json").check()
        steps["startup"] = {"label": "CLI start-up (status)", "seconds": round(run.seconds, 3),
                            "cpu_s": round(run.cpu_s, 2), "peak_rss_mb": run.peak_rss_mb,
                            "note": "fixed cost inside every CLI figure: interpreter, imports, store open"}

        log("unchanged re-harvest: the same --full harvest again, nothing changed")
        before = provider.requests()
        run, out = cli.harvest(full=True)
        step = steps["unchanged"] = _cli_step("unchanged re-harvest (--full)", run, out["records"], out,
                                              requests=provider.requests() - before)
        step["ratio_to_naive"] = _ratio(step["records_per_s"], naive_rate)
        step["ratio_to_floor"] = _ratio(step["records_per_s"], floor_rate)
        checks.expect("unchanged re-harvest counts (records, new, updated, failed)",
                      (out["records"], out["new"], out["updated"], out["failed"]), (n, 0, 0, 0))

        log(f"incremental: change {opts.change_fraction:.0%} of the records, then ichlinks harvest")
        changed = int(provider.change(opts.change_fraction)["changed"])
        before = provider.requests()
        run, out = cli.harvest(full=False)
        step = steps["incremental"] = _cli_step(f"incremental ({opts.change_fraction:.0%} changed)", run,
                                                out["records"], out, requests=provider.requests() - before)
        step["changed"] = changed
        step["records_per_s"] = None  # a handful of records over start-up time says nothing
        checks.expect("incremental harvest (mode, records, updated)",
                      (out["mode"], out["records"], out["updated"]), ("incremental", changed, changed))
        checks.expect("incremental requests (Identify + changed pages)", step["requests"],
                      1 + max(1, math.ceil(changed / PAGE_SIZE)))

        log("remap: ichlinks remap --no-index (crosswalk every stored raw record)")
        run, out = cli.remap()
        steps["remap"] = _cli_step("remap --no-index", run, out["mapped"], out)
        checks.expect("remap mapped every raw record", out["mapped"], n)

        # Remap's target is absolute, and these machines drift by tens of percent within a
        # run: the floor measured again beside it says how fast the machine was just then.
        log("floor again: the same parse floor, beside remap (the machine's drift)")
        again = run_floor(initial_full_list(n))
        steps["floor_again"] = {"label": "floor again (beside remap)", **again.as_json()}
        checks.expect("floor again parsed the same pages", again.digest, floor.digest)
        steps["remap"]["ratio_to_floor"] = _ratio(steps["remap"]["records_per_s"],
                                                  steps["floor_again"]["records_per_s"])

        log("reindex: ichlinks reindex (fresh index from the store, swapped in)")
        run, out = cli.reindex()
        count = out.get("count", out.get("expected"))
        steps["reindex"] = _cli_step("reindex", run, count, out)
        checks.expect("reindex indexed every published record", (count, out.get("expected")), (live, live))

        log("index floor: the embedded index alone, fed the documents of every published record")
        run, out = index_floor_run(cli.config, timeout_s=opts.timeout_s)
        steps["index_floor"] = {"label": "index floor (tantivy alone)", "records": out["documents"],
                                "seconds": out["write_seconds"], "cpu_s": out["write_cpu_s"],
                                "records_per_s": _rate(out["documents"], out["write_seconds"]),
                                "peak_rss_mb": run.peak_rss_mb, "build_cpu_s": out["build_cpu_s"],
                                "write_cpu_us_per_doc": out["write_cpu_us_per_doc"],
                                "build_cpu_us_per_doc": out["build_cpu_us_per_doc"], "batch": out["batch"]}
        checks.expect("index floor indexed every published record (documents, live in its index)",
                      (out["documents"], out["indexed"]), (live, live))


def _rss_runs(opts: Options, workdir: Path, steps: dict[str, Any], checks: _Checks) -> dict[str, Any] | None:
    """Peak RSS of ``harvest --full`` from an empty store at each size; the main run's is reused."""
    if not opts.rss_sizes:
        return None
    runs = []
    for size in sorted(set(opts.rss_sizes)):
        if size == opts.n and "full" in steps:
            full = steps["full"]
            runs.append({"n": size, "seconds": full["seconds"], "records_per_s": full["records_per_s"],
                         "peak_rss_mb": full["peak_rss_mb"], "from": "full pipeline step"})
            continue
        opts.log(f"peak RSS: full harvest at N={size:,} (own provider, empty store)")
        space = workdir / f"rss-{size}"
        space.mkdir()
        started = time.perf_counter()
        with ProviderProcess(size, log_path=space / "provider.log") as provider, \
                fresh_store(opts.store, space) as store_url:
            cli = Cli(space, write_config(space, store_url, provider.url), timeout_s=opts.timeout_s)
            run, out = cli.harvest(full=True)
        checks.expect(f"RSS run N={size} records", (out["status"], out["records"]), ("ok", size))
        runs.append({"n": size, "seconds": round(run.seconds, 3),
                     "records_per_s": _rate(out["records"], run.seconds), "peak_rss_mb": run.peak_rss_mb,
                     "from": "separate run", "total_seconds": round(time.perf_counter() - started, 1)})
        shutil.rmtree(space, ignore_errors=True)
    return {"measured": "peak RSS (ru_maxrss via wait4) of `ichlinks harvest --full` from an empty store",
            "runs": runs}
