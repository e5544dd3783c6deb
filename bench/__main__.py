"""``python -m bench``: run the benchmark, print the table, write the JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.benchmark import DEFAULT_RSS_SIZES, Options, run_benchmark
from bench.provider import REPO_ROOT
from bench.report import render_table, write_json

DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "latest.json"
QUICK_N = 2_000


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 10000,100000, not {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError("give at least two positive sizes")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Speed and memory of the ichLinks pipeline against a synthetic OAI-PMH partner: "
                    "floor, naive sickle loop, full pipeline, unchanged re-harvest, incremental, "
                    "remap, the floor again beside remap (the machine's drift), reindex, "
                    "index floor (tantivy alone), peak RSS.")
    parser.add_argument("--n", type=int, default=None, help="records in the repository (default 100000)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a fast look: N={QUICK_N:,} and no peak-RSS runs (unless --rss-sizes)")
    parser.add_argument("--store", default="sqlite",
                        help="'sqlite' (a new file) or a postgresql+psycopg:// URL (a new schema in it, "
                             "dropped afterwards)")
    parser.add_argument("--skip-rss", action="store_true", help="skip the peak-RSS runs")
    parser.add_argument("--rss-sizes", type=_sizes, default=None,
                        help="sizes for the peak-RSS runs (default 10000,100000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON result (default {DEFAULT_OUT})")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per step")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (store, index, logs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    n = args.n if args.n is not None else QUICK_N if args.quick else 100_000
    if args.skip_rss:
        rss: tuple[int, ...] = ()
    elif args.rss_sizes is not None:
        rss = args.rss_sizes
    else:
        rss = () if args.quick else DEFAULT_RSS_SIZES
    opts = Options(n=n, store=args.store, rss_sizes=rss, timeout_s=args.timeout, keep=args.keep)
    try:
        result = run_benchmark(opts)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    write_json(result, args.out)
    print(render_table(result))
    print(f"\nJSON: {args.out}")
    return 0 if all(c["ok"] for c in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
