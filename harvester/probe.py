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


def probe(url: str, *, timeout_s: float = 30.0, retries: int = 1,
          user_agent: str | None = None) -> dict[str, Any]:
    """Identify, ListMetadataFormats, ListSets and one ListRecords page, with findings."""
    problems: list[str] = []
    report: dict[str, Any] = {"url": url, "ok": False, "problems": problems}
    with HostPools(**({"user_agent": user_agent} if user_agent else {})) as pools:
        client = OAIClient(url, http=pools.client_for(url, timeout_s=timeout_s), source="probe",
                           retry=RetryPolicy(retries=retries, max_backoff_s=10))
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
        prefix = suggested_prefix(formats, suggested) or ("oai_dc" if not formats else prefixes[0])
        report["suggested_mapping"] = suggested
        report["suggested_metadata_prefix"] = prefix
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
        try:
            page = client.list_page("ListRecords", metadata_prefix=prefix)
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
        name = _source_name(url, ident.get("repositoryName"))
        block = {"sources": {name: {
            "url": url, "metadata_prefix": prefix, "sets": [],
            "partner": {"name": (ident.get("repositoryName") or name).strip(), "country": None},
            "mapping": suggested or prefix, "schedule": {"cron": "0 2 * * *"},
            "defaults": {"category": "element"}, "politeness": {"delay_s": 0, "max_connections": 2},
        }}}
        report["config"] = yaml.safe_dump(block, allow_unicode=True, sort_keys=False)
    return report


def suggested_prefix(formats: list[dict[str, str]], crosswalk: str | None) -> str | None:
    """The metadataPrefix the suggested crosswalk reads (prefixes differ between servers)."""
    if not crosswalk:
        return None
    for f in formats:
        if _suggest_mapping([f]) == crosswalk:
            return f.get("metadataPrefix")
    return None
