"""preload() builds every lazily built vocabulary table, so forked remap workers build none."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import mappings.normalisers
from mappings.golden import cases
from mappings.normalisers.preload import preload

GOLDEN = Path(__file__).resolve().parent / "golden"


def _table_builders() -> dict[str, object]:
    """Every cached function without parameters in the normalisers: a lazily built table."""
    found = {}
    for info in pkgutil.iter_modules(mappings.normalisers.__path__):
        module = importlib.import_module(f"mappings.normalisers.{info.name}")
        for name, value in vars(module).items():
            if (hasattr(value, "cache_info") and hasattr(value, "cache_clear")
                    and getattr(value, "__module__", None) == module.__name__
                    and not inspect.signature(value).parameters):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_preload_builds_every_table_that_mapping_uses():
    builders = _table_builders()
    assert "mappings.normalisers.scripts._script_table" in builders  # the discovery works
    for builder in builders.values():
        builder.cache_clear()  # type: ignore[attr-defined]
    preload()
    unbuilt = [name for name, builder in builders.items()
               if builder.cache_info().currsize == 0]  # type: ignore[attr-defined]
    assert not unbuilt, f"preload() does not build {unbuilt}"
    misses = {name: builder.cache_info().misses  # type: ignore[attr-defined]
              for name, builder in builders.items()}
    for case in cases(GOLDEN):  # every bundled crosswalk, real records
        case.run()
    rebuilt = [name for name, builder in builders.items()
               if builder.cache_info().misses != misses[name]]  # type: ignore[attr-defined]
    assert not rebuilt
