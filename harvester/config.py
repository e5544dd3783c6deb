"""Read ``config/ichlinks.yaml`` once, validate it, and hand out frozen settings.

Configuration is data an operator edits by hand, so every mistake must be reported with
the file, the line and the key path (``sources.vn-vicas.politeness.delay_s``) and unknown
keys are errors: a typo such as ``metadataprefix`` must not silently fall back to a default.
Nothing here reads the environment except :func:`load_settings`, which applies the
documented overrides (``ICHLINKS_CONFIG``, ``ICHLINKS_STORE``, ``ICHLINKS_ES_URL``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import yaml

from harvester.errors import ConfigError, ConfigProblems

DEFAULT_CONFIG_PATH = Path("config/ichlinks.yaml")
DEFAULT_STORE = "sqlite:///var/ichlinks.db"
CATEGORIES = ("element", "resource", "stakeholder", "event")
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_INTERVAL_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class Partner:
    name: str
    country: str | None = None


@dataclass(frozen=True)
class Schedule:
    cron: str | None = None
    interval_s: int | None = None
    jitter_s: int = 600


@dataclass(frozen=True)
class Politeness:
    delay_s: float = 0.0
    max_connections: int = 2


@dataclass(frozen=True)
class SourceConfig:
    name: str
    url: str
    metadata_prefix: str = "oai_dc"
    sets: tuple[str, ...] = ()
    partner: Partner = Partner(name="")
    mapping: str | None = None
    schedule: Schedule | None = None
    defaults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    rules: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    politeness: Politeness = Politeness()
    max_delete_fraction: float = 0.2
    timeout_s: float = 60.0
    retries: int = 5
    max_backoff_s: float = 300.0
    follow_redirects: str = "same-host"
    enabled: bool = True

    @property
    def crosswalk(self) -> str:
        """The crosswalk to use: the configured one, else the one named like the format."""
        return self.mapping or self.metadata_prefix


@dataclass(frozen=True)
class SearchConfig:
    backend: str = "embedded"
    path: str = "var/index"
    url: str | None = None
    index: str = "ichlinks"
    api_key: str | None = None
    verify_certs: bool = True


@dataclass(frozen=True)
class ServiceConfig:
    token: str | None = None
    base_url: str | None = None
    repository_name: str = "ichLinks aggregate"
    admin_email: str = "admin@ichlinks.example"
    token_secret: str | None = None


@dataclass(frozen=True)
class HarvestConfig:
    user_agent: str = "ichLinks-Harvester/0.1 (+https://ichlinks.example)"
    concurrency: int = 4
    max_empty_pages: int = 20
    # Pages whose fingerprint the store knows are not parsed (harvester.store.page_memos).
    recognise_unchanged_pages: bool = True


@dataclass(frozen=True)
class Settings:
    store: str = DEFAULT_STORE
    sources: Mapping[str, SourceConfig] = field(default_factory=lambda: MappingProxyType({}))
    search: SearchConfig = SearchConfig()
    service: ServiceConfig = ServiceConfig()
    harvest: HarvestConfig = HarvestConfig()
    path: str | None = None


class _Node:
    """A YAML value with the line it came from, so errors can point at it."""

    __slots__ = ("value", "line")

    def __init__(self, value: Any, line: int) -> None:
        self.value = value
        self.line = line


def _compose(text: str, path: str) -> _Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(f"not valid YAML: {exc.problem}", path=path,
                          line=mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", path=path) from exc
    if node is None:
        return _Node({}, 1)
    return _convert(node, path)


def _convert(node: yaml.Node, path: str) -> _Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, _Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError("keys must be plain names", path=path, line=line)
            if key in out:
                raise ConfigError(f"key {key!r} is given twice", path=path,
                                  line=key_node.start_mark.line + 1)
            out[key] = _convert(value_node, path)
        return _Node(out, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_convert(item, path) for item in node.value], line)
    value = yaml.SafeLoader(  # resolve the scalar's tag (int, bool, null, ...) the standard way
        "").construct_object(node, deep=True) if node.tag != "tag:yaml.org,2002:str" else node.value
    if isinstance(value, str):
        value = _expand_env(value, path, line)
    return _Node(value, line)


def _expand_env(value: str, path: str, line: int) -> str:
    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set (referenced as ${{{name}}})",
                          path=path, line=line)

    return _ENV_REF.sub(repl, value)


class _Reader:
    """Walks one mapping node, checking types and refusing unknown keys.

    A mistake is recorded in ``problems`` (shared by every reader of one file) and the
    default stands in for the value, so the rest of the file is still checked: an operator
    editing forty sources hears of every mistake at once, not one per attempt.
    """

    def __init__(self, node: _Node, key_path: str, path: str, problems: list[ConfigError]) -> None:
        if not isinstance(node.value, dict):
            raise ConfigError(f"must be a mapping, not {_kind(node.value)}", path=path,
                              line=node.line, key=key_path or None)
        self.node = node
        self.items: dict[str, _Node] = node.value
        self.key_path = key_path
        self.path = path
        self.problems = problems
        self.used: set[str] = set()

    def _key(self, name: str) -> str:
        return f"{self.key_path}.{name}" if self.key_path else name

    def error(self, name: str, message: str) -> ConfigError:
        node = self.items.get(name)
        return ConfigError(message, path=self.path, line=node.line if node else self.node.line,
                           key=self._key(name))

    def report(self, name: str, message: str) -> None:
        self.problems.append(self.error(name, message))

    def given(self, name: str) -> bool:
        node = self.items.get(name)
        return node is not None and node.value is not None

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = None, *,
            required: bool = False, check: Callable[[Any], str | None] | None = None) -> Any:
        self.used.add(name)
        node = self.items.get(name)
        if node is None or node.value is None:
            if required:
                self.problems.append(ConfigError("is required", path=self.path,
                                                 line=self.node.line, key=self._key(name)))
            return default
        value = node.value
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            self.report(name, f"must be {names}, not {_kind(value)} ({value!r})")
            return default
        if check is not None:
            problem = check(value)
            if problem:
                self.report(name, problem)
                return default
        return value

    def child(self, name: str) -> _Reader | None:
        self.used.add(name)
        node = self.items.get(name)
        if node is None or node.value is None:
            return None
        try:
            return _Reader(node, self._key(name), self.path, self.problems)
        except ConfigError as exc:
            self.problems.append(exc)
            return None

    def string_list(self, name: str) -> tuple[str, ...]:
        self.used.add(name)
        node = self.items.get(name)
        if node is None or node.value is None:
            return ()
        if isinstance(node.value, str):
            return (node.value,)
        if not isinstance(node.value, list):
            self.report(name, f"must be a list of strings, not {_kind(node.value)}")
            return ()
        out = []
        for item in node.value:
            if not isinstance(item.value, str) or not item.value.strip():
                self.problems.append(ConfigError("list items must be non-empty strings",
                                                 path=self.path, line=item.line,
                                                 key=self._key(name)))
            else:
                out.append(item.value)
        return tuple(out)

    def plain(self, name: str) -> dict[str, Any]:
        """A free-form mapping (defaults, rules), returned as plain Python values."""
        self.used.add(name)
        node = self.items.get(name)
        if node is None or node.value is None:
            return {}
        if not isinstance(node.value, dict):
            self.report(name, f"must be a mapping, not {_kind(node.value)}")
            return {}
        return {k: _plain(v) for k, v in node.value.items()}

    def finish(self) -> None:
        known = ", ".join(sorted(self.used))
        for name in self.items:
            if name not in self.used:
                self.report(name, f"unknown key {name!r} (known keys here: {known})")


_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


def _plain(node: _Node) -> Any:
    if isinstance(node.value, dict):
        return {k: _plain(v) for k, v in node.value.items()}
    if isinstance(node.value, list):
        return [_plain(v) for v in node.value]
    return node.value


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _check_url(value: str) -> str | None:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"must be an http(s) URL, not {value!r}"
    return None


def _check_country(value: str) -> str | None:
    if not re.fullmatch(r"[A-Z]{2}", value):
        return f"must be an ISO 3166-1 alpha-2 code such as VN or KR, not {value!r}"
    return None


def _check_cron(value: str) -> str | None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as exc:
        return f"is not a valid cron expression ({value!r}: {exc})"
    return None


def parse_interval(value: str) -> int | None:
    """'6h' -> 21600; None when the text is not a number with a unit s/m/h/d/w."""
    match = _INTERVAL.match(value)
    if not match or int(match.group(1)) <= 0:
        return None
    return int(match.group(1)) * _INTERVAL_SECONDS[match.group(2)]


def _check_mapping(value: str) -> str | None:
    try:
        from mappings import MappingError, available_crosswalks, load_crosswalk
    except ImportError:
        return None
    if not value.endswith((".yaml", ".yml")) and value not in available_crosswalks():
        return (f"names no crosswalk: {value!r} (bundled: {', '.join(available_crosswalks())}; "
                "or give a .yaml file)")
    try:
        load_crosswalk(value)
    except MappingError as exc:
        return f"crosswalk {value!r} cannot be used: {exc}"
    except OSError as exc:
        return f"crosswalk file {value!r} cannot be read: {exc}"
    return None


def _default_mapping(prefix: str) -> str | None:
    """The crosswalk for a format when none is named (oai_qdc -> qdc, marc21 -> marcxml, ...)."""
    try:
        from mappings import suggest_crosswalk
    except ImportError:
        return prefix
    return suggest_crosswalk([{"metadataPrefix": prefix}])


def _read_source(name: str, node: _Node, path: str,
                 problems: list[ConfigError]) -> SourceConfig | None:
    """The source's settings, or None when ``problems`` got any of its mistakes."""
    key_path = f"sources.{name}"
    if not _SOURCE_NAME.match(name):
        problems.append(ConfigError("source names use letters, digits, '-', '_' and '.' (max 64)",
                                    path=path, line=node.line, key=key_path))
        return None
    try:
        r = _Reader(node, key_path, path, problems)
    except ConfigError as exc:
        problems.append(exc)
        return None
    before = len(problems)
    url = r.get("url", str, required=True, check=_check_url)
    prefix = r.get("metadata_prefix", str, "oai_dc")
    sets = r.string_list("sets")
    partner_r = r.child("partner")
    partner = Partner(name=name)
    if partner_r is not None:
        partner = Partner(name=partner_r.get("name", str, name),
                          country=partner_r.get("country", str, None, check=_check_country))
        partner_r.finish()
    mapping = r.get("mapping", str, None, check=_check_mapping)
    if mapping is None and not r.given("mapping"):
        mapping = _default_mapping(prefix)
        if mapping is None:
            r.report("metadata_prefix", f"no bundled crosswalk reads metadata_prefix {prefix!r}; "
                                        "name one with mapping: (a crosswalk or a .yaml file)")
    schedule = None
    sched_r = r.child("schedule")
    if sched_r is not None:
        mark = len(problems)
        cron = sched_r.get("cron", str, None, check=_check_cron)
        interval = sched_r.get("interval", str, None,
                               check=lambda v: None if parse_interval(v) else
                               f"must be a number with a unit, like 30m, 6h or 1d, not {v!r}")
        jitter = sched_r.get("jitter_s", int, 600,
                             check=lambda v: None if v >= 0 else "must be >= 0")
        sched_r.finish()
        if len(problems) == mark:  # a bad cron or interval is its own problem, not this one
            if (cron is None) == (interval is None):
                problems.append(ConfigError("give exactly one of cron or interval", path=path,
                                            line=sched_r.node.line, key=f"{key_path}.schedule"))
            else:
                schedule = Schedule(cron=cron,
                                    interval_s=parse_interval(interval) if interval else None,
                                    jitter_s=jitter)
    defaults = r.plain("defaults")
    if "category" in defaults and defaults["category"] not in CATEGORIES:
        r.report("defaults", f"defaults.category must be one of {', '.join(CATEGORIES)}, "
                             f"not {defaults['category']!r}")
    if "country" in defaults and (not isinstance(defaults["country"], str)
                                  or _check_country(defaults["country"])):
        r.report("defaults", f"defaults.country must be an ISO alpha-2 code, "
                             f"not {defaults['country']!r}")
    rules = r.plain("rules")
    for rule, table in rules.items():
        if rule not in ("category_by_set", "category_by_type"):
            r.report("rules", f"unknown rule {rule!r} (known: category_by_set, category_by_type)")
        elif not isinstance(table, dict) or any(v not in CATEGORIES for v in table.values()):
            r.report("rules", f"rules.{rule} must map values to one of {', '.join(CATEGORIES)}")
    pol = Politeness()
    pol_r = r.child("politeness")
    if pol_r is not None:
        pol = Politeness(
            delay_s=pol_r.get("delay_s", float, 0.0, check=lambda v: None if v >= 0 else "must be >= 0"),
            max_connections=pol_r.get("max_connections", int, 2,
                                      check=lambda v: None if 1 <= v <= 32 else "must be 1..32"))
        pol_r.finish()
    source = SourceConfig(
        name=name, url=(url or "").strip(), metadata_prefix=prefix, sets=sets, partner=partner,
        mapping=mapping, schedule=schedule, defaults=MappingProxyType(defaults),
        rules=MappingProxyType(rules), politeness=pol,
        max_delete_fraction=r.get("max_delete_fraction", float, 0.2,
                                  check=lambda v: None if 0 <= v <= 1 else "must be between 0 and 1"),
        timeout_s=r.get("timeout_s", float, 60.0, check=lambda v: None if v > 0 else "must be > 0"),
        retries=r.get("retries", int, 5, check=lambda v: None if 0 <= v <= 50 else "must be 0..50"),
        max_backoff_s=r.get("max_backoff_s", float, 300.0,
                            check=lambda v: None if v >= 0 else "must be >= 0"),
        follow_redirects=r.get("follow_redirects", str, "same-host",
                               check=lambda v: None if v in ("never", "same-host", "any") else
                               "must be never, same-host or any"),
        enabled=r.get("enabled", bool, True),
    )
    r.finish()
    return source if len(problems) == before else None


def parse_settings(text: str, path: str = "<config>") -> Settings:
    """Validate a configuration text; raises :class:`ConfigError` naming file, line and key.

    Every mistake of the file is reported, in the order of its lines
    (:class:`~harvester.errors.ConfigProblems` when there are several).  What stops the
    reading itself is reported alone: YAML that does not parse, a key given twice, a
    ``${VAR}`` that is not set.
    """
    problems: list[ConfigError] = []
    root = _Reader(_compose(text, path), "", path, problems)
    store = root.get("store", str, DEFAULT_STORE)
    sources: dict[str, SourceConfig] = {}
    sources_node = root.items.get("sources")
    root.used.add("sources")
    if sources_node is not None and sources_node.value is not None:
        if not isinstance(sources_node.value, dict):
            problems.append(ConfigError("must be a mapping of source name to settings", path=path,
                                        line=sources_node.line, key="sources"))
        else:
            for name, node in sources_node.value.items():
                source = _read_source(str(name), node, path, problems)
                if source is not None:
                    sources[name] = source
    search = SearchConfig()
    search_r = root.child("search")
    if search_r is not None:
        search = SearchConfig(
            backend=search_r.get("backend", str, "embedded",
                                 check=lambda v: None if v in ("embedded", "elasticsearch") else
                                 "must be embedded or elasticsearch"),
            path=search_r.get("path", str, "var/index"),
            url=search_r.get("url", str, None, check=_check_url),
            index=search_r.get("index", str, "ichlinks"),
            api_key=search_r.get("api_key", str, None) or None,
            verify_certs=search_r.get("verify_certs", bool, True),
        )
        search_r.finish()
        if search.backend == "elasticsearch" and not search_r.given("url"):
            problems.append(ConfigError("the elasticsearch backend needs search.url", path=path,
                                        line=search_r.node.line, key="search.url"))
    service = ServiceConfig()
    service_r = root.child("service")
    if service_r is not None:
        service = ServiceConfig(
            token=service_r.get("token", str, None) or None,
            base_url=service_r.get("base_url", str, None, check=_check_url),
            repository_name=service_r.get("repository_name", str, ServiceConfig.repository_name),
            admin_email=service_r.get("admin_email", str, ServiceConfig.admin_email),
            token_secret=service_r.get("token_secret", str, None) or None,
        )
        service_r.finish()
    harvest = HarvestConfig()
    harvest_r = root.child("harvest")
    if harvest_r is not None:
        harvest = HarvestConfig(
            user_agent=harvest_r.get("user_agent", str, HarvestConfig.user_agent),
            concurrency=harvest_r.get("concurrency", int, 4,
                                      check=lambda v: None if 1 <= v <= 64 else "must be 1..64"),
            max_empty_pages=harvest_r.get("max_empty_pages", int, 20,
                                          check=lambda v: None if v >= 1 else "must be >= 1"),
            recognise_unchanged_pages=harvest_r.get("recognise_unchanged_pages", bool, True),
        )
        harvest_r.finish()
    root.finish()
    if problems:
        raise ConfigProblems.of(problems)
    return Settings(store=store, sources=MappingProxyType(sources), search=search,
                    service=service, harvest=harvest, path=path)


def load_settings(path: str | os.PathLike[str] | None = None, *,
                  environ: Mapping[str, str] | None = None, require_file: bool = False) -> Settings:
    """Load the configuration file and apply the environment overrides.

    Without an explicit path, ``ICHLINKS_CONFIG`` and then ``config/ichlinks.yaml`` are tried;
    a missing default file yields empty settings so commands such as ``probe`` work anywhere.
    """
    env = os.environ if environ is None else environ
    explicit = path is not None or "ICHLINKS_CONFIG" in env
    cfg_path = Path(path) if path is not None else Path(env.get("ICHLINKS_CONFIG", DEFAULT_CONFIG_PATH))
    if cfg_path.is_file():
        try:
            text = cfg_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot be read: {exc}", path=str(cfg_path)) from exc
        settings = parse_settings(text, str(cfg_path))
    elif explicit or require_file:
        raise ConfigError("configuration file not found", path=str(cfg_path))
    else:
        settings = Settings()
    overrides: dict[str, Any] = {}
    if env.get("ICHLINKS_STORE"):
        overrides["store"] = env["ICHLINKS_STORE"]
    if env.get("ICHLINKS_ES_URL"):
        search = settings.search
        overrides["search"] = SearchConfig(backend="elasticsearch", path=search.path,
                                           url=env["ICHLINKS_ES_URL"], index=search.index,
                                           api_key=env.get("ES_API_KEY") or search.api_key,
                                           verify_certs=search.verify_certs)
    if overrides:
        from dataclasses import replace

        settings = replace(settings, **overrides)
    return settings
