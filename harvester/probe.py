"""Look at an unknown OAI-PMH endpoint before configuring it, and say what is wrong with it.

An operator adding a partner wants to know, in one command: does it answer, which formats
and sets, which granularity and deletion policy, what a record looks like, which protocol
problems we will have to live with — and a ``sources:`` block to paste.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import yaml

from harvester.config import SourceConfig
from harvester.crosswalk_preview import preview_crosswalk
from harvester.crosswalking import source_context
from harvester.errors import HarvestError
from harvester.oai.client import HostPools, OAIClient
from harvester.oai.retry import RetryPolicy

MAX_SETS = 50
_DATE_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _suggest_mapping(formats: list[dict[str, str]]) -> str | None:
    try:
        from mappings import suggest_crosswalk
    except ImportError:
        return None
    return suggest_crosswalk(formats)


def _source_name(url: str, repository_name: str | None = None) -> str:
    """A config key for the source: from the host name, else from the repository's name."""
    host = urlsplit(url).hostname or ""
    if host and not re.fullmatch(r"[\d.]+|\[?[0-9a-fA-F:]+\]?|localhost", host):
        parts = [p for p in host.split(".") if p not in ("www", "oai", "repository", "repo")]
        return re.sub(r"[^A-Za-z0-9_.-]", "-", "-".join(parts[:2]))[:64].strip("-") or "source"
    slug = re.sub(r"[^a-z0-9]+", "-", (repository_name or "").lower()).strip("-")
    return slug[:64] or "source"


def probe(url: str, *, timeout_s: float = 30.0, retries: int = 1, user_agent: str | None = None,
          metadata_prefix: str | None = None, set_spec: str | None = None,
          mapping: str | None = None, source: SourceConfig | None = None) -> dict[str, Any]:
    """Identify, ListMetadataFormats, ListSets and one ListRecords page, with findings, and
    what the crosswalk makes of that page (``crosswalk_preview``).

    Without ``source`` the page is read in the suggested format and mapped with the suggested
    crosswalk and the defaults of the suggested ``sources:`` block, so the preview tells what
    pasting that block would give; ``metadata_prefix``, ``set_spec`` and ``mapping`` override
    the suggestions (and the block follows).  With a configured ``source``, its own format,
    first set, crosswalk, partner, defaults and rules are used: a check of the configuration
    against the live repository before a long harvest.
    """
    if source is not None:
        url = source.url
        metadata_prefix = metadata_prefix or source.metadata_prefix
        set_spec = set_spec or (source.sets[0] if source.sets else None)
        mapping = mapping or source.crosswalk
    problems: list[str] = []
    report: dict[str, Any] = {"url": url, "ok": False, "problems": problems}
    with HostPools(**({"user_agent": user_agent} if user_agent else {})) as pools:
        # A configured source is probed as it is harvested: its name in messages, its rule
        # for redirects (a repository that moved host works only with ``follow_redirects``).
        client = OAIClient(url, http=pools.client_for(url, timeout_s=timeout_s),
                           source=source.name if source is not None else "probe",
                           retry=RetryPolicy(retries=retries, max_backoff_s=10),
                           **({"follow_redirects": source.follow_redirects} if source is not None else {}))
        try:
            ident = client.identify()
        except HarvestError as exc:
            report["error"] = str(exc)
            problems.append(f"Identify failed: {exc}")
            return report
        granularity = (ident.get("granularity") or "").strip()
        report.update({
            "repository_name": ident.get("repositoryName"), "base_url": ident.get("baseURL"),
            "protocol_version": ident.get("protocolVersion"), "granularity": granularity or None,
            "earliest_datestamp": ident.get("earliestDatestamp"),
            "deleted_record": ident.get("deletedRecord"), "admin_email": ident.get("adminEmail"),
        })
        if ident.get("protocolVersion") != "2.0":
            problems.append(f"protocolVersion is {ident.get('protocolVersion')!r}, not 2.0")
        if granularity not in ("YYYY-MM-DD", "YYYY-MM-DDThh:mm:ssZ"):
            problems.append(f"granularity {granularity!r} is not one of the two the spec allows; "
                            "day granularity will be assumed for incremental harvests")
        eds = (ident.get("earliestDatestamp") or "").strip()
        if eds and not (_DATE_DAY.match(eds) or _DATE_SECONDS.match(eds)):
            problems.append(f"earliestDatestamp {eds!r} is not a UTC datestamp")
        if (ident.get("deletedRecord") or "") not in ("no", "transient", "persistent"):
            problems.append(f"deletedRecord {ident.get('deletedRecord')!r} is not no/transient/persistent")
        base = (ident.get("baseURL") or "").strip()
        if base and base.rstrip("/") != url.strip().rstrip("/"):
            problems.append(f"Identify gives baseURL {base!r}, not the URL probed")
        try:
            formats = client.list_metadata_formats()
        except HarvestError as exc:
            formats = []
            problems.append(f"ListMetadataFormats failed: {exc}")
        report["formats"] = formats
        prefixes = [f.get("metadataPrefix") for f in formats]
        if "oai_dc" not in prefixes:
            problems.append("oai_dc is not offered, although the spec requires it")
        suggested = _suggest_mapping(formats)
        suggested_format = suggested_prefix(formats, suggested) or ("oai_dc" if not formats else prefixes[0])
        report["suggested_mapping"] = suggested
        report["suggested_metadata_prefix"] = suggested_format
        prefix = metadata_prefix or suggested_format
        if prefixes and prefix not in prefixes:
            problems.append(f"metadataPrefix {prefix!r} is not among the formats offered "
                            f"({', '.join(p for p in prefixes if p)})")
        if metadata_prefix and mapping is None and metadata_prefix != suggested_format:
            mapping = _suggest_mapping([f for f in formats if f.get("metadataPrefix") == prefix]) or prefix
        crosswalk = mapping or suggested or prefix
        report["probed"] = {"metadata_prefix": prefix, "set": set_spec, "mapping": crosswalk,
                            "source": source.name if source is not None else None}
        sets: list[dict[str, str]] = []
        try:
            for item in client.list_sets():
                sets.append(item)
                if len(sets) >= MAX_SETS:
                    report["sets_truncated"] = True
                    break
        except HarvestError as exc:
            problems.append(f"ListSets failed: {exc}")
        report["sets"] = sets
        page = None
        try:
            page = client.list_page("ListRecords", metadata_prefix=prefix, set_spec=set_spec)
            records = page.response.records
            report["first_page"] = {
                "records": len(records), "empty": page.empty,
                "deleted": sum(1 for r in records if r.header.deleted),
                "resumption_token": page.response.token.value if page.response.token else None,
                "complete_list_size": page.response.token.complete_list_size if page.response.token else None,
                "response_date": page.response.response_date,
            }
            if not page.response.response_date:
                problems.append("responses carry no responseDate; incremental harvests will "
                                "fall back to record datestamps")
            sample = next((r for r in records if not r.header.deleted and not r.error), None)
            if sample is not None:
                report["sample_record"] = {"identifier": sample.header.identifier,
                                           "datestamp": sample.header.datestamp,
                                           "sets": list(sample.header.sets), "xml": sample.xml[:4000]}
            for rec in records:
                for d in rec.diagnostics:
                    problems.append(f"record {rec.header.identifier}: {d.code}: {d.message}")
                if rec.error:
                    problems.append(f"record {rec.header.identifier}: unparseable: {rec.error}")
                if rec.header.datestamp and granularity == "YYYY-MM-DD" and not _DATE_DAY.match(rec.header.datestamp):
                    problems.append(f"record {rec.header.identifier}: datestamp {rec.header.datestamp!r} "
                                    "does not match the day granularity")
                    break
            for d in page.response.diagnostics:
                problems.append(f"page: {d.code}: {d.message}")
        except HarvestError as exc:
            problems.append(f"ListRecords failed: {exc}")
        problems.extend(client.notes)
        report["ok"] = True
        if source is None:
            name = _source_name(url, ident.get("repositoryName"))
            entry = {
                "url": url, "metadata_prefix": prefix, "sets": [set_spec] if set_spec else [],
                "partner": {"name": (ident.get("repositoryName") or name).strip(), "country": None},
                "mapping": crosswalk, "schedule": {"cron": "0 2 * * *"},
                "defaults": {"category": "element"}, "politeness": {"delay_s": 0, "max_connections": 2},
            }
            report["config"] = yaml.safe_dump({"sources": {name: entry}}, allow_unicode=True,
                                              sort_keys=False)
            context = _block_context(name, entry)
        else:
            report["config"] = None
            context = source_context(source)
        if page is not None:
            report["crosswalk_preview"] = _preview(page.response.records, crosswalk, context, problems)
    return report


def _block_context(name: str, entry: dict[str, Any]) -> Any:
    """The crosswalk's view of a source configured with the suggested block."""
    from mappings import SourceContext

    return SourceContext(source=name, partner_name=entry["partner"]["name"], partner_country=None,
                         metadata_prefix=entry["metadata_prefix"], defaults=dict(entry["defaults"]))


def _preview(records: Any, crosswalk: str, context: Any, problems: list[str]) -> dict[str, Any]:
    from mappings import MappingError

    try:
        return preview_crosswalk(records, crosswalk, context)
    except (MappingError, OSError) as exc:
        problems.append(f"crosswalk {crosswalk!r} cannot be used: {exc}")
        return {"crosswalk": crosswalk, "error": str(exc)}


def suggested_prefix(formats: list[dict[str, str]], crosswalk: str | None) -> str | None:
    """The metadataPrefix the suggested crosswalk reads (prefixes differ between servers)."""
    if not crosswalk:
        return None
    for f in formats:
        if _suggest_mapping([f]) == crosswalk:
            return f.get("metadataPrefix")
    return None
