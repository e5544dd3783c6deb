"""httpx, loaded for synchronous use only: without trio.

httpcore (which httpx loads when the first client is made) imports trio whenever it is
installed, only to offer trio's async backend.  This harvester's client is synchronous, and
that import costs about 70 ms of every harvest's start where trio is present (the test
extras bring it, with selenium).  So httpcore is loaded here, with trio hidden only while it
loads: anything else in the process can still import trio, and a process that has imported
trio already keeps it, and httpcore sees it as usual.
"""

from __future__ import annotations

import sys

_hide_trio = "trio" not in sys.modules and "httpcore" not in sys.modules
if _hide_trio:
    sys.modules["trio"] = None  # type: ignore[assignment]  # makes `import trio` raise ImportError
try:
    import httpcore  # noqa: F401  # loaded now, while trio is hidden
    import httpx
finally:
    if _hide_trio and sys.modules.get("trio", False) is None:
        del sys.modules["trio"]

__all__ = ["httpx"]
