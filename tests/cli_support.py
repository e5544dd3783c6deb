"""Running the real ``ichlinks`` command line in a subprocess, on a configuration written for the test."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


def ichlinks(*args: str, cfg: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "harvester.cli"]
    if cfg is not None:
        cmd += ["--config", str(cfg)]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, env=env)


def write_config(tmp_path: Path, store_url: str, sources: Mapping[str, str | Mapping[str, Any]],
                 **options: Any) -> Path:
    """``tmp_path/ichlinks.yaml`` with an embedded index under ``tmp_path``.

    Each source is a URL, or a mapping with ``url`` and its own keys; ``options`` go into every
    source.  Sources retry once, quickly, so tests of failures stay short.
    """
    entries = {}
    for name, spec in sources.items():
        own = {"url": spec} if isinstance(spec, str) else dict(spec)
        entries[name] = {"partner": {"name": f"Partner {name}", "country": "VN"}, "retries": 1,
                         "max_backoff_s": 0.1, **options, **own}
    document = {"store": store_url, "search": {"backend": "embedded", "path": str(tmp_path / "index")},
                "sources": entries}
    cfg = tmp_path / "ichlinks.yaml"
    cfg.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cfg
