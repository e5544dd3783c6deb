"""The batch processes' collector settings (harvester/collector.py).

Each case runs in a fresh interpreter: freezing the test process's own objects would
change how every later test's garbage is collected.
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import gc, json, sys
from harvester import collector
gc.set_threshold(*{threshold})
held = [[i] for i in range(5000)]          # alive before: must end up frozen
before = len(gc.get_objects())
first = collector.settle_for_batches()
frozen = gc.get_freeze_count()
second = collector.settle_for_batches()
garbage = []
garbage.append(garbage)                     # a cycle made after settling is still collected
del garbage
found = gc.collect()
print(json.dumps({{"first": first, "second": second, "before": before, "frozen": frozen,
                  "unfrozen_tracked": len(gc.get_objects()), "threshold": gc.get_threshold(),
                  "collected_cycle": found >= 1}}))
"""


def _probe(threshold: tuple[int, int, int]) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE.format(threshold=threshold)],
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_settling_freezes_what_is_alive_once_and_widens_the_young_generation() -> None:
    from harvester.collector import YOUNG_THRESHOLD

    got = _probe((700, 10, 10))
    assert got["first"] is True and got["second"] is False
    assert got["frozen"] >= got["before"] - 100   # the 5,000 lists and everything imported
    assert got["unfrozen_tracked"] < 1000          # only what was made after settling
    assert got["threshold"] == [YOUNG_THRESHOLD, 10, 10]
    assert got["collected_cycle"]


def test_a_wider_young_generation_already_set_is_kept() -> None:
    assert _probe((50_000, 5, 5))["threshold"] == [50_000, 5, 5]


def test_a_switched_off_collector_stays_off() -> None:
    assert _probe((0, 10, 10))["threshold"][0] == 0
