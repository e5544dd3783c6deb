"""Index generations on disk and the pointer file that says which one is live.

::

    <path>/CURRENT          one line: the live generation's directory name
    <path>/gen-000001/      a complete tantivy index
    <path>/gen-000002/      built by a rebuild; live once CURRENT names it

A rebuild fills a new generation and only then replaces ``CURRENT`` with
``os.replace`` (atomic on POSIX and Windows), so readers see the old index or the
new one, never a half-built one.  The generation replaced last stays on disk for
readers that still have it open; older ones are removed after the next swap.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

POINTER = "CURRENT"
_GENERATION = re.compile(r"^gen-(\d{6,})$")


def generation_name(number: int) -> str:
    return f"gen-{number:06d}"


def generations(root: Path) -> list[str]:
    """Generation directories under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p.name) for p in root.iterdir()
             if p.is_dir() and (m := _GENERATION.match(p.name))]
    return [name for _, name in sorted(found)]


def current(root: Path) -> str | None:
    """The live generation, or ``None`` before the first one exists."""
    try:
        name = (root / POINTER).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    if not _GENERATION.match(name):
        raise ValueError(f"{root / POINTER} does not name a generation: {name!r}")
    return name


def make_next(root: Path) -> Path:
    """Create and return a fresh, empty generation directory (never reuses a number)."""
    root.mkdir(parents=True, exist_ok=True)
    existing = generations(root)
    number = int(_GENERATION.match(existing[-1]).group(1)) + 1 if existing else 1  # type: ignore[union-attr]
    while True:
        path = root / generation_name(number)
        try:
            path.mkdir()
            return path
        except FileExistsError:  # another process got this number first
            number += 1


def _fsync_dir(root: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_tmp(root: Path, name: str) -> Path:
    tmp = root / f".{POINTER}.{os.getpid()}.{name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def switch(root: Path, name: str) -> None:
    """Atomically make ``name`` the live generation."""
    tmp = _write_tmp(root, name)
    os.replace(tmp, root / POINTER)
    _fsync_dir(root)


def claim_first(root: Path, name: str) -> bool:
    """Make ``name`` live only if no generation is live yet; False if another process won."""
    tmp = _write_tmp(root, name)
    try:
        os.link(tmp, root / POINTER)   # link() never replaces: first writer wins
        _fsync_dir(root)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def remove(root: Path, name: str) -> None:
    shutil.rmtree(root / name, ignore_errors=True)


def prune(root: Path, keep: set[str]) -> list[str]:
    """Remove every generation not in ``keep``; returns what was removed."""
    removed = [name for name in generations(root) if name not in keep]
    for name in removed:
        remove(root, name)
    return removed
