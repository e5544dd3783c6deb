"""The demo's own directory: a fresh store, index and configuration on every run.

The demo must never need a configuration file and never touch an operator's data, so it
writes everything under one directory and wipes that directory first -- but only when a
marker file says an earlier demo made it.  Any other non-empty directory is refused.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harvester.config import Settings, load_settings
from harvester.errors import IchlinksError

MARKER = ".ichlinks-demo"
CONFIG_NAME = "ichlinks.yaml"
STORE_NAME = "ichlinks.db"
INDEX_NAME = "index"


class DemoDirError(IchlinksError):
    """The demo directory cannot be used (not a directory, or someone else's files)."""

    exit_code = 2


def prepare_demo_dir(path: str | Path) -> Path:
    """An empty demo directory at ``path`` (absolute), made or wiped; refuses foreign content."""
    root = Path(path).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise DemoDirError(f"{root} exists and is not a directory")
    if root.exists():
        entries = list(root.iterdir())
        if entries and not (root / MARKER).is_file():
            raise DemoDirError(f"{root} is not empty and was not made by `ichlinks demo` "
                               f"(no {MARKER} file); choose another --dir")
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("Made by `ichlinks demo`; the next demo run wipes this directory.\n",
                               encoding="utf-8")
    return root


def demo_config(root: Path, sources: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The configuration a newcomer would write for these sources, pointing inside ``root``."""
    return {
        "store": f"sqlite:///{root / STORE_NAME}",
        "search": {"backend": "embedded", "path": str(root / INDEX_NAME)},
        "harvest": {"concurrency": 4},
        "sources": {name: dict(source) for name, source in sources.items()},
    }


def write_config(root: Path, config: Mapping[str, Any]) -> Settings:
    """Write ``ichlinks.yaml`` into the demo directory and load it like any configuration.

    The environment overrides (``ICHLINKS_STORE``, ``ICHLINKS_ES_URL``) are ignored on
    purpose: they point at an operator's real store and index.
    """
    path = root / CONFIG_NAME
    header = ("# Written by `ichlinks demo` for its bundled partner repositories on 127.0.0.1.\n"
              "# The ports change on every run; this file is for reading, and for\n"
              "# `ichlinks --config` while the demo's partners are still running.\n")
    path.write_text(header + yaml.safe_dump(dict(config), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return load_settings(path, environ={})
