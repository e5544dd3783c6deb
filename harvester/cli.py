"""The ``ichlinks`` command: parse arguments, call one library function, print.

Known errors become one message on stderr and an exit code (2 for configuration, 1 for
the rest); unknown ones keep their traceback, because they are bugs to report.
Command names, options and ``--json`` keys are a contract other tools depend on.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from harvester.errors import ConfigError, IchlinksError

if TYPE_CHECKING:
    from harvester.config import Settings

F = TypeVar("F", bound=Callable[..., Any])


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def handle_errors(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IchlinksError as exc:
            click.echo(f"ichlinks: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


class Context:
    def __init__(self, config: str | None) -> None:
        self.config_path = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from harvester.config import load_settings  # YAML and the config model: not for --help

            self._settings = load_settings(self.config_path)
        return self._settings

    def engine(self):  # type: ignore[no-untyped-def]
        from harvester.store.engine import open_store

        return open_store(self.settings.store)


pass_ctx = click.make_pass_decorator(Context)

# Commands that live beside their feature and import heavy libraries (FastAPI, APScheduler):
# loaded only when called, so `ichlinks harvest` starts fast.
LAZY_COMMANDS = {
    "serve": "harvester.service.cli:serve",
    "schedule": "harvester.scheduling.cli:schedule",
    "demo": "harvester.demo.cli:demo",
    "publish": "harvester.publishing.cli:publish",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._available()))

    @staticmethod
    def _available() -> list[str]:
        import importlib.util

        out = []
        for name, target in LAZY_COMMANDS.items():
            module = target.split(":")[0]
            try:
                if importlib.util.find_spec(module) is not None:
                    out.append(name)
            except ModuleNotFoundError:
                continue
        return out

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        import importlib

        module, attr = LAZY_COMMANDS[cmd_name].split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError:
            return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config", metavar="PATH", envvar="ICHLINKS_CONFIG",
              help="Configuration file (default config/ichlinks.yaml; env ICHLINKS_CONFIG).")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="ichlinks-harvester")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: int) -> None:
    """ichLinks Harvester: harvest partners' OAI-PMH repositories of intangible cultural
    heritage, crosswalk them into the common ICH schema, and index them for search.

    \b
    Flow:  config/ sources -> harvest (raw record store) -> crosswalk (ICH records)
           -> index -> search service
    """
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(config)


@contextmanager
def _progress_line(job: str, as_json: bool) -> Iterator[Callable[[int, int], None] | None]:
    """``show(done, total)`` drawing one line on stderr for a long batch command, or None
    when stderr is not a terminal (or the output is JSON for a script)."""
    if as_json or not sys.stderr.isatty():
        yield None
        return
    from harvester.progress import TerminalProgress

    line = TerminalProgress()
    try:
        yield lambda done, total: line.update(job, pages=None, records=done, total=total)
    finally:
        line.close()


@contextmanager
def _graceful_stop() -> Iterator[threading.Event]:
    """SIGTERM/SIGINT finish the current page, commit its checkpoint, then stop."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        click.echo(f"\nichlinks: {signal.Signals(signum).name}: finishing the current page, "
                   "then stopping (again to abort)", err=True)
        stop.set()

    old = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@handle_errors
def sources(ctx: Context, as_json: bool) -> None:
    """List the configured sources and their state in the store."""
    from harvester.status import sources_overview

    settings = ctx.settings
    rows = sources_overview(settings, ctx.engine() if settings.sources else None)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        click.echo(f"no sources configured ({settings.path or 'no configuration file'})")
        return
    for row in rows:
        last = row["last_run"]
        state = (f"last run {last['status']} {last['ended_at'] or last['started_at']}" if last
                 else "never harvested")
        rec = row["records"]
        click.echo(f"{row['source']:<20} {row['metadata_prefix']:<10} {row['url']}")
        click.echo(f"{'':<20} partner: {row['partner']['name']} ({row['partner']['country'] or '-'}); "
                   f"{rec['live']} live, {rec['deleted']} deleted; {state}")


@main.command()
@click.argument("target", metavar="URL|SOURCE")
@click.option("--prefix", "metadata_prefix", metavar="PREFIX",
              help="Read the first page in this format (default: the suggested one, or the source's).")
@click.option("--set", "set_spec", metavar="SETSPEC", help="Read the first page of this set only.")
@click.option("--mapping", metavar="NAME|FILE",
              help="Preview this crosswalk (bundled name or .yaml file) instead of the suggested one.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds per request.")
@pass_ctx
@handle_errors
def probe(ctx: Context, target: str, metadata_prefix: str | None, set_spec: str | None,
          mapping: str | None, as_json: bool, timeout: float) -> None:
    """Inspect an OAI-PMH endpoint: Identify, formats, sets, a first page, problems found,
    what the crosswalk makes of that page, and a ready-to-paste sources: block.

    Given a configured SOURCE instead of a URL, its own format, first set, crosswalk, partner,
    defaults and rules are used: a check of the configuration before a long harvest.
    Nothing is stored.
    """
    from harvester.probe import probe as run_probe

    source = None
    if "://" not in target:
        settings = ctx.settings
        if target not in settings.sources:
            raise ConfigError(f"{target!r} is neither a URL (http://..., https://...) nor a configured "
                              f"source (configured: {', '.join(settings.sources) or 'none'})",
                              path=settings.path, key="sources")
        source = settings.sources[target]
    if mapping is not None:
        _check_crosswalk(mapping)
    report = run_probe(target, timeout_s=timeout, metadata_prefix=metadata_prefix,
                       set_spec=set_spec, mapping=mapping, source=source,
                       user_agent=ctx.settings.harvest.user_agent if source is not None else None)
    if as_json:
        _print_json(report)
        sys.exit(0 if report["ok"] else 1)
    url = report["url"]
    if not report["ok"]:
        click.echo(f"{url}: {report.get('error')}", err=True)
        sys.exit(1)
    click.echo(f"Repository:      {report['repository_name']}")
    click.echo(f"Base URL:        {report['base_url']}")
    click.echo(f"Granularity:     {report['granularity']}")
    click.echo(f"Earliest:        {report['earliest_datestamp']}")
    click.echo(f"Deleted records: {report['deleted_record']}")
    click.echo("Formats:         " + ", ".join(f["metadataPrefix"] for f in report["formats"]))
    click.echo(f"Suggested:       metadata_prefix {report['suggested_metadata_prefix']}, "
               f"mapping {report['suggested_mapping'] or '-'}")
    sets = report["sets"]
    click.echo(f"Sets:            {len(sets)}{'+' if report.get('sets_truncated') else ''}"
               + (": " + ", ".join(s.get("setSpec", "") for s in sets[:10]) if sets else ""))
    probed = report["probed"]
    click.echo(f"Probed:          metadata_prefix {probed['metadata_prefix']}, "
               f"set {probed['set'] or '-'}, mapping {probed['mapping']}"
               + (f" (source {probed['source']})" if probed["source"] else ""))
    fp = report.get("first_page")
    if fp:
        click.echo(f"First page:      {fp['records']} records ({fp['deleted']} deleted), "
                   f"completeListSize {fp['complete_list_size'] or '-'}")
    sample = report.get("sample_record")
    if sample:
        click.echo(f"Sample record:   {sample['identifier']} ({sample['datestamp']})")
        click.echo("  " + sample["xml"][:800].replace("\n", "\n  "))
    preview = report.get("crosswalk_preview")
    if preview and "error" not in preview:
        for line in _preview_lines(preview):
            click.echo(line)
    click.echo(f"Problems found:  {len(report['problems'])}")
    for p in report["problems"]:
        click.echo(f"  - {p}")
    if report["config"]:
        click.echo("\nPaste into config/ichlinks.yaml:\n")
        click.echo(report["config"])


def _check_crosswalk(mapping: str) -> None:
    """A crosswalk named on the command line: refused like one named in the config file."""
    from mappings import MappingError, load_crosswalk

    try:
        load_crosswalk(mapping)
    except (MappingError, OSError) as exc:
        raise ConfigError(f"crosswalk {mapping!r} cannot be used: {exc}", path="--mapping") from None


def _preview_lines(preview: dict[str, Any]) -> list[str]:
    """The crosswalk preview as an operator reads it: outcome, empty fields, what to fix."""
    n = preview["records"]
    lines = [f"Crosswalk:       {preview['crosswalk']} {preview['version']} on {n} records of the "
             f"first page: {preview['published']} would be published, "
             f"{preview['quarantined']} quarantined"]
    if preview["categories"]:
        lines.append("  categories:    " + ", ".join(f"{c} {k}" for c, k in preview["categories"].items()))
    for code, count in preview["quarantine_reasons"].items():
        lines.append(f"  quarantined:   {count} x {code}")
    for q in preview["quarantined_records"]:
        lines.append(f"    {q['identifier']}: {'; '.join(q['reasons'])}"[:300])
    if n:
        covered = [f"{f} {pct:g}%" for f, pct in preview["coverage"].items() if pct]
        lines.append("  coverage:      " + (", ".join(covered) or "-"))
        lines.append("  never filled:  " + (", ".join(preview["empty_fields"]) or "-"))
    for code, d in preview["diagnostics"].items():
        if d["level"] != "info":
            values = preview["top_unrecognised"].get(code, [])
            shown = ", ".join(repr(v["value"]) for v in values[:3])
            lines.append(f"  {d['level']}: {code} x {d['count']}" + (f" (e.g. {shown})" if shown else ""))
    return lines


@main.command()
@click.argument("names", nargs=-1, metavar="[NAME ...]")
@click.option("--full", is_flag=True, help="Ignore the incremental high-water mark: list everything.")
@click.option("--allow-mass-delete", is_flag=True,
              help="Let a --full reconciliation tombstone more than max_delete_fraction of a source.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per source.")
@click.option("--no-index", is_flag=True, help="Do not relay changes to the search index now.")
@pass_ctx
@handle_errors
def harvest(ctx: Context, names: tuple[str, ...], full: bool, allow_mass_delete: bool,
            as_json: bool, no_index: bool) -> None:
    """Harvest the named sources (all enabled ones when none are named), several at once.

    Exit code 0 only if every source ends "ok".
    """
    from harvester.collector import settle_for_batches
    from harvester.pipeline import run_harvest

    settings = ctx.settings
    settle_for_batches()  # this process and its forked followers work in batches from here
    with _graceful_stop() as stop:
        results = run_harvest(settings, list(names), full=full, allow_mass_delete=allow_mass_delete,
                              stop=stop, show_progress=sys.stderr.isatty() and not as_json,
                              relay=not no_index)
    if as_json:
        for r in results:
            click.echo(json.dumps(r.as_json(), ensure_ascii=False))
    else:
        if not results:
            click.echo("no sources to harvest")
        for r in results:
            click.echo(f"{r.source:<20} {r.status:<8} {r.mode:<12} {r.records:>8} records "
                       f"({r.new} new, {r.updated} updated, {r.unchanged} unchanged, "
                       f"{r.deleted} deleted, {r.failed} failed) {r.pages} pages, {r.duration_s:.1f}s")
            if r.error:
                click.echo(f"{'':<20} error: {r.error}")
            for note in r.notes:
                click.echo(f"{'':<20} note: {note}")
    sys.exit(0 if all(r.status == "ok" for r in results) else 1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--runs", default=5, show_default=True, help="How many recent runs per source.")
@click.option("--overdue", "only_overdue", is_flag=True,
              help="Only sources two scheduled runs behind; exit code 1 when there are any.")
@pass_ctx
@handle_errors
def status(ctx: Context, as_json: bool, runs: int, only_overdue: bool) -> None:
    """Per source: the last runs, their counts and errors, live/deleted record totals, and
    whether its schedule has gone two runs without a successful harvest (overdue).

    With --overdue, only overdue sources are listed and the exit code is 1 when there are
    any: a check for cron or a monitoring system.
    """
    from harvester.status import status_report

    rows = status_report(ctx.settings, ctx.engine(), runs)
    if only_overdue:
        rows = [row for row in rows if row["overdue"]]
    if as_json:
        _print_json(rows)
    for row in [] if as_json else rows:
        rec = row["records"]
        click.echo(f"{row['source']}: {rec['live']} live, {rec['deleted']} deleted, {rec['failed']} failed"
                   + ("" if row["configured"] else " (no longer configured)"))
        if row["overdue"]:
            click.echo(f"  OVERDUE: {row['overdue']['reason']} (schedule {row['schedule']})")
        for run in row["runs"]:
            click.echo(f"  {run['started_at'][:19]} {run['mode']:<12} {run['status']:<8} "
                       f"{run['records']} records{' so far' if run['status'] == 'running' else ''}, "
                       f"{run['new']} new, {run['updated']} updated, "
                       f"{run['deleted']} deleted, {run['failed']} failed"
                       + (f" — {run['error']}" if run["error"] else ""))
    if only_overdue and rows:
        sys.exit(1)


@main.command()
@click.option("--raw", is_flag=True, help="Export the raw harvested records.")
@click.option("--source", metavar="NAME", help="Only this source.")
@click.option("--include-deleted", is_flag=True, help="With --raw: include tombstones.")
@click.option("--include-quarantined", is_flag=True, help="Include quarantined ICH records.")
@pass_ctx
@handle_errors
def export(ctx: Context, raw: bool, source: str | None, include_deleted: bool,
           include_quarantined: bool) -> None:
    """Write JSON lines to stdout: ICH records, or with --raw the raw records."""
    from harvester.export import iter_raw, write_jsonl

    engine = ctx.engine()
    out = click.get_text_stream("stdout")
    if raw:
        write_jsonl(iter_raw(engine, source=source, include_deleted=include_deleted), out)
        return
    from harvester.export import iter_ich

    write_jsonl(iter_ich(engine, source=source, include_quarantined=include_quarantined), out)


@main.command()
@click.argument("sources_", nargs=-1, metavar="[SOURCE ...]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@handle_errors
def report(ctx: Context, sources_: tuple[str, ...], as_json: bool) -> None:
    """Per source: records mapped and quarantined, coverage per field, diagnostics by code,
    and the values we could not recognise — what a partner needs to fix their data."""
    from harvester.report import report as build
    from harvester.runner import select_sources

    names = [s.name for s in select_sources(ctx.settings, sources_)] if sources_ or ctx.settings.sources \
        else []
    rows = build(ctx.engine(), names)
    if as_json:
        _print_json(rows if len(rows) != 1 or not sources_ else rows[0])
        return
    for r in rows:
        click.echo(f"{r['source']}: {r['mapped']} mapped, {r['published']} published, "
                   f"{r['quarantined']} quarantined; raw {r['raw_live']} live "
                   f"({r['raw_failed']} unparseable), {r['raw_deleted']} deleted")
        if r["quarantine_reasons"]:
            click.echo("  quarantined because: " + ", ".join(f"{k} ({v})" for k, v in r["quarantine_reasons"].items()))
        click.echo("  coverage: " + ", ".join(f"{k} {v:.0f}%" for k, v in r["coverage"].items()))
        for code, d in r["diagnostics"].items():
            click.echo(f"  {d['level']:<7} {code:<28} {d['count']}")
            for v in r["top_unrecognised"].get(code, [])[:5]:
                click.echo(f"          {v['field'] or '-'}: {v['value']!r} ({v['count']})")
        for code, n in r["harvest_diagnostics"].items():
            click.echo(f"  harvest {code:<28} {n}")


@main.command()
@click.argument("sources_", nargs=-1, metavar="[SOURCE ...]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--no-index", is_flag=True, help="Do not relay the changes to the index now.")
@pass_ctx
@handle_errors
def remap(ctx: Context, sources_: tuple[str, ...], as_json: bool, no_index: bool) -> None:
    """Re-run the crosswalks over the stored raw records (no network); only records whose
    output changed are marked for re-indexing."""
    from harvester.collector import settle_for_batches
    from harvester.crosswalking import raw_record_count
    from harvester.crosswalking import remap as run_remap
    from harvester.relay import relay_outbox
    from harvester.runner import select_sources

    engine = ctx.engine()
    sources = select_sources(ctx.settings, sources_)
    settle_for_batches()  # this process or its forked workers map every record in batches
    with _progress_line("remap", as_json) as show:
        total = raw_record_count(engine, sources) if show is not None else 0
        summaries = run_remap(engine, ctx.settings, sources,
                              progress=None if show is None else lambda n: show(n, total))
    relayed = None if no_index else relay_outbox(engine, ctx.settings.search)
    if as_json:
        for sm in summaries:
            click.echo(json.dumps(sm.as_json(), ensure_ascii=False))
    else:
        for sm in summaries:
            click.echo(f"{sm.source}: {sm.mapped} mapped, {sm.changed} changed, {sm.unchanged} unchanged, "
                       f"{sm.published} published, {sm.quarantined} quarantined, {sm.deleted} deleted")
        if relayed and relayed["error"]:
            click.echo(f"index: {relayed['error']}", err=True)


@main.command()
@click.argument("query", required=False, default="")
@click.option("--filter", "filters", multiple=True, metavar="FIELD=VALUE",
              help="category, countries, ich_domains, source, languages, media_type, year=FROM-TO (repeatable).")
@click.option("--facets", is_flag=True, help="Show facet counts.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print the search contract JSON.")
@pass_ctx
@handle_errors
def search(ctx: Context, query: str, filters: tuple[str, ...], facets: bool, limit: int,
           offset: int, as_json: bool) -> None:
    """Search the index (ranked by relevance, with highlighted snippets)."""
    from harvester.searching import parse_filters, run_search

    q = parse_filters(query, filters, facets=facets or as_json, limit=limit, offset=offset)
    result = run_search(ctx.settings, q)
    if as_json:
        _print_json(result)
        return
    click.echo(f"{result['total']} records")
    for hit in result["results"]:
        click.echo(f"- {hit['title']}  [{hit['category']}; {', '.join(hit['countries']) or '-'}; "
                   f"{hit['source']}]  {hit['id']}")
        if hit.get("snippet"):
            click.echo(f"    {hit['snippet']}")
    if facets:
        for name, counts in result.get("facets", {}).items():
            if counts:
                click.echo(f"{name}: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))


@main.command()
@click.argument("key", metavar="ID|OAI_IDENTIFIER")
@click.option("--source", metavar="NAME", help="Look for the OAI identifier in this source only.")
@click.option("--xml", "with_xml", is_flag=True, help="Print the raw record as harvested, too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list: an identifier may be in several sources).")
@pass_ctx
@handle_errors
def record(ctx: Context, key: str, source: str | None, with_xml: bool, as_json: bool) -> None:
    """Where one record stands: harvested, mapped or quarantined (and why), waiting for or
    in the search index, and what would move it on.

    KEY is an ICH record id (as the search and the API show it) or the partner's OAI
    identifier. Exit code 1 when no stored record matches.
    """
    from harvester.record_trace import trace_records

    traces = trace_records(ctx.engine(), ctx.settings, key, source=source, with_xml=with_xml)
    if as_json:
        _print_json(traces)
    elif not traces:
        where = f"source {source}" if source else ("sources " + ", ".join(ctx.settings.sources)
                                                   if ctx.settings.sources else "no configured source")
        click.echo(f"no stored record {key!r}: looked up as an ICH record id and as an OAI "
                   f"identifier in {where}", err=True)
    for trace in [] if as_json else traces:
        for line in _trace_lines(trace):
            click.echo(line)
    sys.exit(0 if traces else 1)


def _trace_lines(trace: dict[str, Any]) -> list[str]:
    harvest, crosswalk, index = trace["harvest"], trace["crosswalk"], trace["index"]
    lines = [f"{trace['source']}  {trace['identifier']}  ->  {trace['id'] or '-'}",
             f"  verdict:    {trace['verdict']}: {trace['explanation']}"]
    lines += [f"  note:       {note}" for note in trace["notes"]]
    lines.append(f"  harvest:    {harvest['metadata_prefix']}, datestamp {harvest['datestamp'] or '-'}, "
                 f"sets [{', '.join(harvest['sets'])}], first seen {harvest['first_seen_at']}, "
                 f"changed {harvest['updated_at']}" + (", deleted" if harvest["deleted"] else ""))
    diagnostics = list(harvest["diagnostics"])
    if crosswalk is not None:
        record = crosswalk["record"] or {}
        title = next((t.get("value") for t in record.get("title") or [] if isinstance(t, dict)), None)
        current = ("current" if not crosswalk["stale"] else
                   f"now {crosswalk['current_mapping_version']}") if crosswalk["current_mapping_version"] else "-"
        lines.append(f"  crosswalk:  {crosswalk['mapping']} {crosswalk['mapping_version']} ({current}), "
                     f"version {crosswalk['version']}, changed {crosswalk['changed_at']}, "
                     f"category {crosswalk['category'] or '-'}" + (f", title {title!r}" if title else ""))
        diagnostics += crosswalk["diagnostics"]
    for d in diagnostics:
        value = f" (value {d['value']!r})" if d.get("value") is not None else ""
        lines.append(f"    {d.get('level', '-'):<8} {d.get('field') or '-':<14} {d.get('code')}: "
                     f"{d.get('message')}{value}")
    if trace["id"] is not None:
        state = (f"error: {index['error']}" if index["error"] else
                 f"searchable at version {index['searchable_version']}"
                 if index["searchable_version"] is not None else "not searchable")
        lines.append(f"  index:      {index['backend']}: {state}")
        for p in index["pending"]:
            lines.append(f"    pending {p['action']} since {p['created_at']}"
                         + (f", {p['attempts']} attempt(s), last error: {p['last_error']}"
                            if p["attempts"] else ""))
    if "xml" in trace:
        lines += ["  raw record:", "    " + trace["xml"].replace("\n", "\n    ")]
    return lines


@main.group()
def suppressions() -> None:
    """Records withheld from publication at a community's or partner's request.

    A suppressed record stays in the raw store but is quarantined on every mapping until the
    suppression is removed: gone from the search index, deleted in the OAI-PMH feed, refused
    by the API and pages, counted in the partner report.
    """


@suppressions.command("add")
@click.argument("key", metavar="ID|OAI_IDENTIFIER")
@click.option("--reason", required=True, help="Why (kept with the suppression, shown to whoever asks).")
@click.option("--source", metavar="NAME", help="The source, when the identifier is in several.")
@click.option("--by", metavar="WHO", help="Who asked or decided (default: the login name).")
@click.option("--no-index", is_flag=True, help="Do not relay the change to the search index now.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@handle_errors
def suppressions_add(ctx: Context, key: str, reason: str, source: str | None, by: str | None,
                     no_index: bool, as_json: bool) -> None:
    """Withhold one record from publication, now and after every re-harvest."""
    from harvester.suppressions import suppress

    done = suppress(ctx.engine(), ctx.settings, key, reason, source=source, by=by, relay=not no_index)
    _suppression_echo(done, as_json)


@suppressions.command("remove")
@click.argument("key", metavar="ID|OAI_IDENTIFIER")
@click.option("--source", metavar="NAME", help="The source, when the identifier is in several.")
@click.option("--no-index", is_flag=True, help="Do not relay the change to the search index now.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@handle_errors
def suppressions_remove(ctx: Context, key: str, source: str | None, no_index: bool,
                        as_json: bool) -> None:
    """Lift a suppression: the record is mapped again and published if it can be."""
    from harvester.suppressions import release

    done = release(ctx.engine(), ctx.settings, key, source=source, relay=not no_index)
    _suppression_echo(done, as_json)


@suppressions.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@handle_errors
def suppressions_list(ctx: Context, as_json: bool) -> None:
    """Every suppressed record, with its reason, who and when."""
    from harvester.suppressions import list_suppressions

    rows = list_suppressions(ctx.engine())
    if as_json:
        _print_json(rows)
        return
    if not rows:
        click.echo("no suppressed records")
    for row in rows:
        click.echo(f"{row['id']}  {row['source'] or '-'}  {row['identifier'] or '-'}  "
                   f"since {row['suppressed_at'][:19]} by {row['suppressed_by'] or '-'}: {row['reason']}")


def _suppression_echo(done: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _print_json(done)
        return
    state = f"suppressed ({done['reason']})" if done["suppressed"] else "no longer suppressed"
    click.echo(f"{done['source']}  {done['identifier']}  ->  {done['id']}: {state}")
    relay = done["relay"]
    if relay is None:
        click.echo("  the index is not told yet: `ichlinks index relay` applies the change")
    elif relay["error"]:
        click.echo(f"  index: {relay['error']} (the change stays pending)")


@main.group()
def index() -> None:
    """The search index: backlog status."""


@index.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@handle_errors
def index_status(ctx: Context, as_json: bool) -> None:
    """Outbox backlog, last relay run and error, and the index's own document count."""
    from harvester.relay import index_status as build

    st = build(ctx.engine(), ctx.settings.search)
    if as_json:
        _print_json(st)
        return
    click.echo(f"backend:  {st['backend']}")
    click.echo(f"pending:  {st['pending']} changes ({st['failing']} failing), oldest {st['oldest_pending'] or '-'}")
    click.echo(f"last run: {st['last_run_at'] or '-'}, last success {st['last_success_at'] or '-'}")
    if st["last_error"]:
        click.echo(f"last error: {st['last_error']}")
    if st.get("index"):
        click.echo(f"index:    {st['index']}")
    if st.get("index_error"):
        click.echo(f"index unavailable: {st['index_error']}")


@index.command("relay")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@handle_errors
def index_relay(ctx: Context, as_json: bool) -> None:
    """Apply the pending changes to the index now (harvest does this after each run)."""
    from harvester.relay import relay_outbox

    rep = relay_outbox(ctx.engine(), ctx.settings.search)
    if as_json:
        _print_json(rep)
    else:
        click.echo(f"applied {rep['applied']}, failed {rep['failed']}, pending {rep['pending']}"
                   + (f"; {rep['error']}" if rep["error"] else ""))
    sys.exit(1 if rep["error"] else 0)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@handle_errors
def reindex(ctx: Context, as_json: bool) -> None:
    """Build a fresh index from the store, check its count, then swap it in atomically."""
    from harvester.collector import settle_for_batches
    from harvester.relay import reindex as run_reindex

    settle_for_batches()  # a one-shot command: every record passes through in batches
    with _progress_line("reindex", as_json) as show:
        result = run_reindex(ctx.engine(), ctx.settings.search, progress=show)
    if as_json:
        _print_json(result)
    else:
        click.echo(", ".join(f"{k}: {v}" for k, v in result.items()))


@main.command()
def schema() -> None:
    """Print the ICH record JSON Schema."""
    from mappings import ich_json_schema

    _print_json(ich_json_schema())


if __name__ == "__main__":  # pragma: no cover
    # `python -m harvester.cli` runs this file as __main__, a second copy of the module; the
    # lazily loaded commands bind to `harvester.cli`, so run that copy's group.
    from harvester.cli import main as _main

    _main()
