"""The ichLinks benchmark: ``python -m bench`` (see ``python -m bench --help``).

Speed and memory are shown here, by one command on one machine, never by timed tests.
A synthetic multilingual partner repository is served from pre-rendered pages by a
separate process; the floor (lxml on the same bytes), a naive sickle loop and the
``ichlinks`` CLI itself are measured against it, and the figures are judged against the
project's targets in the same run.
"""

from importlib import import_module
from typing import Any

# Loaded on first use: ``python -m bench.provider`` and ``python -m bench.naive`` run as
# __main__ and must not already be imported by the package (nor pay for lxml and friends).
_EXPORTS = {
    "Options": "bench.benchmark", "run_benchmark": "bench.benchmark",
    "FloorResult": "bench.floor", "run_floor": "bench.floor",
    "ProviderProcess": "bench.provider",
    "SyntheticRecord": "bench.records", "build_record": "bench.records",
    "judge": "bench.report", "render_table": "bench.report", "write_json": "bench.report",
    "SyntheticRepository": "bench.repository", "initial_full_list": "bench.repository",
    "ChildRun": "bench.rss", "run_measured": "bench.rss",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bench' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
