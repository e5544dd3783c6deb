"""The naive baseline: the plain sickle loop a user would write instead of ichLinks.

``python -m bench.naive URL`` lists every record (tombstones included, as a harvester
must see them), touches each record's identifier and parsed metadata, and prints one
JSON line.  It stores nothing: what the pipeline does on top (raw store, crosswalk,
index) is exactly what the ratio to this loop is about.
"""

from __future__ import annotations

import argparse
import json
import time

from sickle import Sickle


def naive_harvest(url: str) -> dict[str, object]:
    started = time.perf_counter()
    records = deleted = titled = 0
    client = Sickle(url, max_retries=0, timeout=120)
    for record in client.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False):
        records += 1
        if record.header.deleted:
            deleted += 1
        elif record.metadata.get("title"):
            titled += 1
    seconds = time.perf_counter() - started
    return {"records": records, "deleted": deleted, "titled": titled, "seconds": round(seconds, 4)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.naive",
                                     description="List a repository with a plain sickle loop.")
    parser.add_argument("url")
    args = parser.parse_args(argv)
    print(json.dumps(naive_harvest(args.url)))


if __name__ == "__main__":
    main()
