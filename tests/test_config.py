"""Configuration: valid files load into frozen settings; every mistake names file, line and key."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from harvester.config import load_settings, parse_interval, parse_settings
from harvester.errors import ConfigError, ConfigProblems

GOOD = """\
store: sqlite:///var/ichlinks.db
sources:
  vn-vicas:
    url: https://repository.example.vn/oai
    metadata_prefix: oai_dc
    sets: []
    partner: {name: "Vietnam National Institute of Culture and Arts Studies", country: VN}
    mapping: oai_dc
    schedule: {cron: "0 2 * * *"}
    defaults: {category: element, language: vi}
    politeness: {delay_s: 0, max_connections: 2}
  kz-ich:
    url: http://oai.example.kz/request
    sets: [music, crafts]
    schedule: {interval: 6h}
"""


def test_issue_example_loads_with_every_key() -> None:
    s = parse_settings(GOOD, "ichlinks.yaml")
    src = s.sources["vn-vicas"]
    assert src.url == "https://repository.example.vn/oai"
    assert src.partner.country == "VN"
    assert src.schedule is not None and src.schedule.cron == "0 2 * * *"
    assert dict(src.defaults) == {"category": "element", "language": "vi"}
    assert src.politeness.max_connections == 2
    kz = s.sources["kz-ich"]
    assert kz.sets == ("music", "crafts")
    assert kz.schedule is not None and kz.schedule.interval_s == 6 * 3600
    assert kz.crosswalk == "oai_dc"
    with pytest.raises(dataclasses.FrozenInstanceError):
        src.url = "http://elsewhere"  # type: ignore[misc]


@pytest.mark.parametrize("text, line, key, words", [
    ("sources:\n  a:\n    url: ftp://x.org/oai\n", 3, "sources.a.url", "http(s) URL"),
    ("sources:\n  a:\n    url: http://x.org/oai\n    metadataprefix: oai_dc\n", 4,
     "sources.a.metadataprefix", "unknown key"),
    ("sources:\n  a:\n    url: http://x.org/oai\n    schedule: {cron: '61 * * * *'}\n", 4,
     "sources.a.schedule.cron", "cron"),
    ("sources:\n  a:\n    url: http://x.org/oai\n    schedule: {interval: often}\n", 4,
     "sources.a.schedule.interval", "unit"),
    ("sources:\n  a:\n    url: http://x.org/oai\n    partner: {name: X, country: Vietnam}\n", 4,
     "sources.a.partner.country", "alpha-2"),
    ("sources:\n  a:\n    url: http://x.org/oai\n    politeness: {delay_s: fast}\n", 4,
     "sources.a.politeness.delay_s", "number"),
    ("sources:\n  a:\n    metadata_prefix: oai_dc\n", 3, "sources.a.url", "required"),
    ("store: sqlite:///x.db\nstroe: y\n", 2, "stroe", "unknown key"),
    ("sources:\n  a:\n    url: http://x.org/oai\n  a:\n    url: http://y.org/oai\n", 4, None, "twice"),
    ("sources: [\n", None, None, "YAML"),
    ("sources:\n  a:\n    url: http://x.org/oai\n    defaults: {category: thing}\n", 4,
     "sources.a.defaults", "category"),
    ("search: {backend: solr}\n", 1, "search.backend", "embedded or elasticsearch"),
])
def test_bad_config_names_file_line_and_key(text: str, line: int | None, key: str | None,
                                            words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, "conf/ichlinks.yaml")
    err = info.value
    assert err.path == "conf/ichlinks.yaml"
    if line is not None:
        assert err.line == line, str(err)
    if key is not None:
        assert err.key == key, str(err)
    assert words in str(err)
    assert str(err).startswith("conf/ichlinks.yaml")


MANY_MISTAKES = """\
store: sqlite:///x.db
sources:
  a:
    url: ftp://x.org/oai
    mapping: dublin_core
    schedule: {cron: '61 * * * *'}
    politness: {delay_s: 1}
  good:
    url: http://ok.org/oai
  b:
    url: http://y.org/oai
    partner: {country: Korea}
    sets: [3, music]
search: {backend: elasticsearch}
harvst: {concurrency: 2}
"""


def test_every_mistake_of_a_file_is_reported_at_once_in_line_order() -> None:
    with pytest.raises(ConfigProblems) as info:
        parse_settings(MANY_MISTAKES, "conf/ichlinks.yaml")
    err = info.value
    found = [(p.line, p.key) for p in err.problems]
    assert found == [(4, "sources.a.url"), (5, "sources.a.mapping"),
                     (6, "sources.a.schedule.cron"), (7, "sources.a.politness"),
                     (12, "sources.b.partner.country"), (13, "sources.b.sets"),
                     (14, "search.url"), (15, "harvst")]
    # A mistake stands alone: the bad cron is not also "neither cron nor interval", the bad
    # mapping does not fall back to the format's crosswalk.
    assert not any("exactly one" in p.message or "no bundled" in p.message for p in err.problems)
    text = str(err).splitlines()
    assert text[0] == "conf/ichlinks.yaml: 8 problems"
    assert text[1:] == [f"  {p}" for p in err.problems]
    assert (err.line, err.key) == (4, "sources.a.url")  # read as one error, it is the first


def test_one_mistake_is_a_plain_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings("sources:\n  a:\n    url: http://x.org/oai\n    retries: -1\n", "c.yaml")
    assert type(info.value) is ConfigError
    assert str(info.value) == "c.yaml:4: sources.a.retries: must be 0..50"


def test_environment_overrides(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("store: sqlite:///a.db\nsearch: {api_key: '${ES_KEY:-none}'}\n")
    s = load_settings(None, environ={"ICHLINKS_CONFIG": str(cfg), "ICHLINKS_STORE": "sqlite:///b.db",
                                     "ICHLINKS_ES_URL": "http://es:9200"})
    assert s.store == "sqlite:///b.db"
    assert s.search.backend == "elasticsearch" and s.search.url == "http://es:9200"
    assert load_settings(cfg, environ={}).search.api_key == "none"


def test_missing_explicit_file_is_an_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_intervals() -> None:
    assert parse_interval("30m") == 1800
    assert parse_interval("1d") == 86400
    assert parse_interval("0h") is None
    assert parse_interval("6 hours") is None


def test_cli_exits_2_on_bad_config_without_touching_the_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "c.yaml"
    db = tmp_path / "store.db"
    cfg.write_text(f"store: sqlite:///{db}\nsources:\n  a:\n    url: http://x.org/oai\n    sets: 3\n"
                   "  b:\n    url: gopher://y.org\n")
    proc = subprocess.run([sys.executable, "-m", "harvester.cli", "--config", str(cfg), "harvest"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"{cfg}: 2 problems" in proc.stderr
    assert f"{cfg}:5: sources.a.sets" in proc.stderr and f"{cfg}:7: sources.b.url" in proc.stderr
    assert not db.exists()


@pytest.mark.parametrize("prefix, crosswalk", [("oai_dc", "oai_dc"), ("oai_qdc", "qdc"),
                                               ("marc21", "marcxml"), ("mods", "mods")])
def test_default_crosswalk_follows_the_format(prefix: str, crosswalk: str) -> None:
    s = parse_settings(f"sources:\n  a:\n    url: http://x.org/oai\n    metadata_prefix: {prefix}\n")
    assert s.sources["a"].crosswalk == crosswalk


@pytest.mark.parametrize("extra, words", [
    ("    metadata_prefix: didl\n", "no bundled crosswalk"),
    ("    mapping: dublin_core\n", "names no crosswalk"),
    ("    mapping: /nonexistent/cw.yaml\n", "does not exist"),
])
def test_mapping_problems_are_config_errors(extra: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        parse_settings("sources:\n  a:\n    url: http://x.org/oai\n" + extra, "c.yaml")
    assert info.value.line == 4
