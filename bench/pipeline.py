"""The ichLinks pipeline as a user runs it: the ``ichlinks`` CLI in its own process.

Each step is one real subprocess (``python -m harvester.cli --config <tmp>/ichlinks.yaml
...``) against a store that starts empty: a SQLite file in the work directory, or a fresh
PostgreSQL schema that is dropped afterwards.  Nothing here imports the harvester, so the
benchmark measures the command, its start-up and its imports included.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.provider import REPO_ROOT, child_environment
from bench.rss import ChildRun, run_measured

SOURCE = "bench"


@contextmanager
def fresh_store(store: str, workdir: Path) -> Iterator[str]:
    """An empty store URL: ``sqlite`` (a new file) or a PostgreSQL URL (a new schema in it)."""
    if store == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if not store.startswith(("postgresql://", "postgresql+psycopg://")):
        raise ValueError(f"--store takes 'sqlite' or a postgresql+psycopg:// URL, not {store!r}")
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(store)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in store else "?"
        yield f"{store}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def store_kind(store: str) -> str:
    """What the results may say about the store: its kind, never a URL with credentials."""
    return "sqlite" if store == "sqlite" else "postgresql"


def write_config(workdir: Path, store_url: str, provider_url: str) -> Path:
    """One source with the defaults a partner's first configuration would have."""
    config = {
        "store": store_url,
        "search": {"backend": "embedded", "path": str(workdir / "index")},
        "sources": {
            SOURCE: {
                "url": provider_url,
                "metadata_prefix": "oai_dc",
                "partner": {"name": "ichLinks synthetic benchmark partner"},
                "mapping": "oai_dc",
                "defaults": {"category": "element"},
            },
        },
    }
    path = workdir / "ichlinks.yaml"
    # JSON is YAML: no quoting rules to get wrong for URLs with ?, % and :.
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


class Cli:
    """Runs ``ichlinks`` commands against one work directory and configuration."""

    def __init__(self, workdir: Path, config: Path, *, timeout_s: float | None = None) -> None:
        self.workdir = workdir
        self.config = config
        self.timeout_s = timeout_s
        self.env = child_environment()

    def run(self, *args: str) -> ChildRun:
        argv = [sys.executable, "-m", "harvester.cli", "--config", str(self.config), *args]
        return run_measured(argv, cwd=self.workdir, env=self.env, timeout_s=self.timeout_s)

    def harvest(self, *, full: bool) -> tuple[ChildRun, dict[str, Any]]:
        run = self.run("harvest", SOURCE, *(["--full"] if full else []), "--json").check()
        return run, json_lines(run.stdout)[-1]

    def remap(self) -> tuple[ChildRun, dict[str, Any]]:
        run = self.run("remap", SOURCE, "--no-index", "--json").check()
        return run, json_lines(run.stdout)[-1]

    def reindex(self) -> tuple[ChildRun, dict[str, Any]]:
        run = self.run("reindex", "--json").check()
        return run, json.loads(run.stdout)

    def index_status(self) -> dict[str, Any]:
        run = self.run("index", "status", "--json").check()
        data: dict[str, Any] = json.loads(run.stdout)
        return data


def json_lines(text: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    if not rows:
        raise RuntimeError(f"expected JSON lines from the CLI, got: {text[-500:]!r}")
    return rows


def naive_run(url: str, *, timeout_s: float | None = None) -> tuple[ChildRun, dict[str, Any]]:
    run = run_measured([sys.executable, "-m", "bench.naive", url], cwd=REPO_ROOT,
                       env=child_environment(), timeout_s=timeout_s).check()
    return run, json_lines(run.stdout)[-1]


def index_floor_run(config: Path, *, timeout_s: float | None = None) -> tuple[ChildRun, dict[str, Any]]:
    """``bench.index_floor`` over the store the pipeline filled, as a process of its own."""
    run = run_measured([sys.executable, "-m", "bench.index_floor", "--config", str(config)],
                       cwd=REPO_ROOT, env=child_environment(), timeout_s=timeout_s).check()
    return run, json_lines(run.stdout)[-1]
