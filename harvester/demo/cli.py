"""``ichlinks demo``: the whole system in one command, with no configuration and no network.

Loaded lazily by ``harvester.cli`` (``LAZY_COMMANDS``).  The ``--json`` document's keys are
a contract: ``ok``, ``dir``, ``config``, ``partners``, ``sources`` (``harvest --json`` keys
plus ``live``, ``deleted_stored``, ``quarantined``, ``published``, ``expected``, ``notes``),
``index``, ``searches``, ``problems``, and ``serve`` when ``--serve`` was asked for.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from harvester.cli import handle_errors

from .partners import load_partners
from .walkthrough import DemoReport, run_demo, running_partners
from .workspace import prepare_demo_dir

# The demo writes and reads only its own directory, never an operator's store or index.
_OPERATOR_OVERRIDES = ("ICHLINKS_STORE", "ICHLINKS_ES_URL", "ICHLINKS_CONFIG")


def _print_text(report: DemoReport, *, serving: bool) -> None:
    echo = click.echo
    echo(f"ichLinks demo: {len(report.partners)} partner repositories served over OAI-PMH on "
         "127.0.0.1, harvested into")
    echo(f"  {report.root}   (configuration: {report.config_path.name})\n")
    echo("Partners")
    for p in report.partners:
        echo(f"  {p['source']:<10} {p['country']}  {p['partner']}")
        echo(f"  {'':<10}     {p['url']}  {p['metadata_prefix']} -> crosswalk {p['mapping']}, "
             f"{'day' if len(p['granularity']) == 10 else 'seconds'} granularity, "
             f"deletedRecord {p['deleted_record']}, {p['page_size']} records a page")
    echo("\nHarvest -> crosswalk -> index")
    echo(f"  {'source':<10} {'status':<8} {'records':>7} {'new':>5} {'deleted':>7} {'failed':>6} "
         f"{'quarantined':>11} {'published':>9}")
    for s in report.sources:
        echo(f"  {s['source']:<10} {s['status']:<8} {s.get('records', 0):>7} {s.get('new', 0):>5} "
             f"{s.get('deleted', 0):>7} {s.get('failed', 0):>6} {s['quarantined']:>11} "
             f"{s['published']:>9}")
    if report.index:
        facets = report.index["facets"]
        echo(f"\nSearch index ({report.index['backend']}): {report.index['records']} records")
        for name in ("category", "countries", "languages", "ich_domains", "media_type"):
            values = facets.get(name) or {}
            echo(f"  {name:<12} " + ", ".join(f"{k} {v}" for k, v in values.items()))
    if report.searches:
        echo("\nSample searches")
        for search in report.searches:
            sources = ", ".join(f"{k} {v}" for k, v in search["sources"].items()) or "-"
            echo(f"  {search['q']!r}: {search['total']} found ({sources}) — {search['shows']}")
            for hit in search["top"]:
                echo(f"      {hit['title']}  [{hit['category']}, {hit['source']}]")
    if report.problems:
        echo("\nProblems", err=True)
        for problem in report.problems:
            echo(f"  - {problem}", err=True)
        return
    echo(f"\nEverything worked. The harvested data stays in {report.root}")
    echo(f"  (`ichlinks --config {report.config_path} status`, `... search 'hat xoan'`).")
    if not serving:
        echo("To browse it, with the partners kept up: `ichlinks demo --serve`.")


def _service_problem() -> str | None:
    """Why the HTTP service cannot run here, or None; it is an optional, separate feature."""
    import importlib

    try:
        importlib.import_module("harvester.service.cli")
    except ImportError as exc:
        return f"the HTTP service (harvester.service) is not available in this installation: {exc}"
    return None


def _run_ichlinks(args: list[str]) -> None:
    """``ichlinks ARGS`` in this process, so the partners stay up while it runs."""
    from harvester.cli import main

    main.main(args=args, prog_name="ichlinks", standalone_mode=False)


def _serve(report: DemoReport, port: int) -> int:
    """Run ``ichlinks serve`` on the demo's configuration until Ctrl-C; returns its exit code."""
    for name in _OPERATOR_OVERRIDES:
        os.environ.pop(name, None)
    click.echo(f"\nServing the demo at http://127.0.0.1:{port}/ (API /api/search?q=..., OAI-PMH /oai); "
               "Ctrl-C stops the service and the partners.", err=True)
    try:
        _run_ichlinks(["--config", str(report.config_path), "serve", "--port", str(port)])
    except KeyboardInterrupt:
        return 0
    except click.ClickException as exc:
        exc.show()
        return 1
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    return 0


@click.command()
@click.option("--dir", "directory", default="var/demo", show_default=True, metavar="DIR",
              help="Where the demo's store, index and generated configuration go; a previous "
                   "demo there is wiped first (any other non-empty directory is refused).")
@click.option("--serve", is_flag=True,
              help="Then run the HTTP service on the demo's data until Ctrl-C, partners kept up.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port for --serve.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@handle_errors
def demo(directory: str, serve: bool, port: int, as_json: bool) -> None:
    """The whole system in one command, on bundled partner repositories.

    Serves five partners (Viet Nam, Korea, Mongolia, Kazakhstan, Cambodia) over OAI-PMH on
    127.0.0.1, harvests them, crosswalks and indexes the records, and searches them.

    Needs no configuration file and no network.  Exit code 0 only if every source was
    harvested completely and the index answers every sample search.
    """
    root = prepare_demo_dir(directory)  # before anything starts: a refused directory costs nothing
    partners = load_partners()
    with running_partners(partners) as urls:
        report = run_demo(root, partners, urls)
        serve_problem = _service_problem() if serve else None
        document: dict[str, Any] = report.as_json()
        if serve:
            document["serve"] = {"port": port, "available": serve_problem is None,
                                 "error": serve_problem}
        if as_json:
            click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        else:
            _print_text(report, serving=serve)
        if not report.ok:
            sys.exit(1)
        if serve:
            if serve_problem is not None:
                click.echo(f"ichlinks demo: --serve: {serve_problem}", err=True)
                sys.exit(1)
            sys.exit(_serve(report, port))
