"""``ichlinks publish``: serve, check, or start from a template.

Loaded lazily by ``harvester.cli`` (``LAZY_COMMANDS``); it needs no configuration file.
The ``--check --json`` keys are a contract: ``ok``, ``input``, ``kind``, ``rows``,
``publishable``, ``rows_with_errors``, ``warnings``, ``formats``, ``columns``, ``items``.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from harvester.cli import handle_errors

from .checking import CheckReport, check_input
from .errors import InputError
from .readers import open_input
from .repository import keep_namespace, publication_for
from .serving import PublishServer, default_base_url, publishing_server
from .state import load_state, state_path
from .templates import TEMPLATE_FORMATS, template

def _print_check(report: CheckReport) -> None:
    echo = click.echo
    echo(f"{report.input}: {len(report.rows)} rows, {report.publishable} ready, "
         f"{report.rows_with_errors} with errors, {report.warnings} warnings; "
         f"formats {', '.join(report.formats)}")
    if report.unrecognised_columns:
        echo("columns not recognised (not published): " + ", ".join(report.unrecognised_columns))
    for row in report.rows:
        aggregator = row.aggregator or {}
        shown = [p for p in row.problems if p.level != "info"]
        theirs = row.aggregator_only()
        if not shown and not theirs:
            continue
        title = f"  {row.title!r}" if row.title else ""
        echo(f"{row.where}  {row.identifier or '-'}{title}")
        for problem in shown:
            echo(f"  {problem.level:<8}{problem.code:<22} {problem.message}")
        for diagnostic in theirs:
            echo(f"  {diagnostic['level']:<8}{diagnostic['code']:<22} aggregator: "
                 f"{diagnostic['message']}" + (f" ({diagnostic['value']!r})"
                                               if diagnostic.get("value") else ""))
        if aggregator.get("quarantined"):
            echo("  -> the aggregator would quarantine this record (kept, not published)")
    if report.ok:
        echo("no errors: ready to publish")


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """Installed before the server announces itself, so a SIGTERM right after is a clean stop."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(server: PublishServer, *, host: str, as_json: bool) -> None:
    with _stop_signals() as stop:
        _announce_and_wait(server, host=host, as_json=as_json, stop=stop)


def _announce_and_wait(server: PublishServer, *, host: str, as_json: bool,
                       stop: threading.Event) -> None:
    repository = server.published
    publication = repository.publication
    try:
        server.start()
    except OSError as exc:
        repository.close()
        raise InputError(f"cannot listen on {host}:{server.port}: {exc.strerror or exc} "
                         "(another program uses the port? try --port 8081)") from exc
    snap = repository.snapshot
    errors = sum(1 for _, p in snap.problems if p.level == "error")
    formats = ", ".join(f.prefix for f in repository.formats())
    if as_json:
        click.echo(json.dumps({"url": publication.base_url, "name": publication.name,
                               "records": snap.live, "deleted": snap.deleted,
                               "formats": [f.prefix for f in repository.formats()],
                               "state": str(repository.state_file), "problems": errors},
                              ensure_ascii=False))
        sys.stdout.flush()
    else:
        echo = click.echo
        echo(f"Publishing {repository.input.path} as \"{publication.name}\": {snap.live} records"
             + (f", {snap.deleted} deleted" if snap.deleted else ""))
        echo(f"  OAI-PMH base URL:  {publication.base_url}")
        echo(f"  try it:            {publication.base_url}?verb=Identify")
        echo(f"  formats:           {formats}")
        echo(f"  history kept in:   {repository.state_file}")
        if errors:
            echo(f"  {errors} problems need fixing; see `ichlinks publish {repository.input.path} --check`")
        if host in ("127.0.0.1", "localhost", "::1") and server.public_url is None:
            echo("  only this computer can reach it; for the aggregator use --host 0.0.0.0 "
                 "and --base-url with your public address")
        echo("Edits to the input are published as they are saved. Ctrl-C stops.")
        sys.stdout.flush()
    try:
        while not stop.wait(3600):
            pass
    finally:
        server.stop()


@click.command()
@click.argument("input_path", metavar="INPUT", required=False,
                type=click.Path(path_type=Path, dir_okay=True, file_okay=True))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--base-url", metavar="URL",
              help="The public address of the OAI-PMH endpoint, when harvesters reach it through "
                   "a router or proxy (default http://HOST:PORT/oai).")
@click.option("--name", help="Repository name (default: from the file name).")
@click.option("--admin-email", metavar="EMAIL", help="Contact address shown to harvesters.")
@click.option("--sheet", metavar="NAME", help="The workbook sheet to publish (default: the first).")
@click.option("--check", is_flag=True, help="Check the input and report problems; do not serve.")
@click.option("--json", "as_json", is_flag=True, help="With --check: print JSON. Serving: one JSON line.")
@click.option("--template", "template_kind", type=click.Choice(TEMPLATE_FORMATS),
              help="Write an empty inventory with an example row to stdout.")
@handle_errors
def publish(input_path: Path | None, host: str, port: int, base_url: str | None, name: str | None,
            admin_email: str | None, sheet: str | None, check: bool, as_json: bool,
            template_kind: str | None) -> None:
    """Serve a spreadsheet (CSV, XLSX) or a folder of JSON/YAML items as an OAI-PMH 2.0
    repository that the ichLinks aggregator can harvest with no special configuration.

    \b
    ichlinks publish inventory.xlsx                 serve on http://127.0.0.1:8080/oai
    ichlinks publish inventory.xlsx --check         list what to fix first
    ichlinks publish --template xlsx > inventory.xlsx
    """
    if template_kind is not None:
        sys.stdout.flush()
        out = sys.stdout.buffer
        if template_kind == "xlsx" and out.isatty():
            raise InputError("an .xlsx template is binary: redirect it to a file "
                             "(ichlinks publish --template xlsx > inventory.xlsx)")
        out.write(template(template_kind))
        out.flush()
        return
    if input_path is None:
        raise click.UsageError("give the INPUT to publish (or --template csv|xlsx)")
    if check:
        source = open_input(input_path, sheet=sheet)
        publication = keep_namespace(
            publication_for(source.path, name=name, admin_email=admin_email,
                            base_url=base_url or default_base_url(host, port or 8080)),
            load_state(state_path(source.path)))
        report = check_input(source, publication)
        if as_json:
            click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        else:
            _print_check(report)
        sys.exit(0 if report.ok else 1)
    server = publishing_server(input_path, host=host, port=port, base_url=base_url, name=name,
                               admin_email=admin_email, sheet=sheet)
    _serve(server, host=host, as_json=as_json)
