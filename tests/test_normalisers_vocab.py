"""Integrity of the YAML vocabularies behind mappings.normalisers.

Each entry a librarian adds must be reachable through the public function (not shadowed by
another entry, not broken by YAML 1.1 typing such as ``no`` -> False) and name valid codes.
"""

from __future__ import annotations

import re

import pytest

from mappings.normalisers import (
    category_from_type,
    ich_domains,
    media_type,
    normalise_country,
    normalise_language,
    normalise_rights,
)
from mappings.normalisers.folding import compact_key
from mappings.normalisers.vocabulary import load_vocabulary

# UNESCO Asia-Pacific electoral group (Group IV) member states plus the region's associate
# members (Macao, Tokelau, New Caledonia).
ASIA_PACIFIC = (
    "AF AU BD BT BN KH CN CK KP FJ IN ID IR JP KZ KI KG LA MY MV MH FM MN MM NR NP NZ NU PK PW "
    "PG PH KR WS SG SB LK TJ TH TL TO TM TV UZ VU VN MO TK NC"
).split()
# ISO 15924 codes the language vocabulary may use.
SCRIPTS = frozenset(
    "Latn Cyrl Arab Hang Hani Hans Hant Hira Kana Jpan Kore Thai Laoo Khmr Mymr Mong Tibt Deva "
    "Beng Sinh Taml Telu Knda Mlym Gujr Guru Orya Thaa Geor Armn Grek Hebr Ethi Bali".split()
)


def _strings(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) and v.strip() for v in values)


# --- countries --------------------------------------------------------------------------

COUNTRIES = load_vocabulary("countries")


def test_countries_keys_and_codes_are_well_formed() -> None:
    alpha3 = [entry["alpha3"] for entry in COUNTRIES.values()]
    assert all(isinstance(k, str) and re.fullmatch(r"[A-Z]{2}", k) for k in COUNTRIES)
    assert all(isinstance(a, str) and re.fullmatch(r"[A-Z]{3}", a) for a in alpha3)
    assert len(set(alpha3)) == len(alpha3)
    assert all(_strings(entry["names"]) for entry in COUNTRIES.values())


def test_countries_cover_every_iso_3166_country() -> None:
    assert len(COUNTRIES) == 249


@pytest.mark.parametrize("alpha2", ASIA_PACIFIC)
def test_every_asia_pacific_state_has_local_names(alpha2: str) -> None:
    entry = COUNTRIES[alpha2]
    assert normalise_country(alpha2) == alpha2
    assert normalise_country(entry["alpha3"]) == alpha2
    assert len(entry["names"]) >= 2


def test_no_country_name_is_claimed_by_two_countries() -> None:
    owner: dict[str, str] = {}
    clashes = []
    for alpha2, entry in COUNTRIES.items():
        for name in entry["names"]:
            key = compact_key(name)
            if owner.setdefault(key, alpha2) != alpha2:
                clashes.append((name, owner[key], alpha2))
    assert clashes == []


@pytest.mark.parametrize(
    ("alpha2", "name"),
    [(alpha2, name) for alpha2, entry in COUNTRIES.items() for name in entry["names"]],
)
def test_every_country_name_finds_its_country(alpha2: str, name: str) -> None:
    assert normalise_country(name) == alpha2


# --- languages --------------------------------------------------------------------------

LANGUAGES = load_vocabulary("languages")


def test_language_entries_are_well_formed() -> None:
    for tag, entry in LANGUAGES.items():
        assert isinstance(tag, str) and re.fullmatch(r"[a-z]{2,3}", tag), tag
        assert set(entry["scripts"]) <= SCRIPTS, tag
        assert entry["scripts"], tag
        assert _strings(entry["names"]), tag
        for field in ("iso639_2b", "iso639_2t"):
            if field in entry:
                assert re.fullmatch(r"[a-z]{3}", entry[field]), (tag, field)
        for code in entry.get("iso639_3", []):
            assert re.fullmatch(r"[a-z]{3}", code), (tag, code)
        # BCP 47: the 2-letter code where one exists, the 3-letter code only otherwise.
        if len(tag) == 3:
            assert tag in entry.get("iso639_3", []) or tag == entry.get("iso639_2t"), tag


@pytest.mark.parametrize(
    "tag",
    "ko vi kk mn th hi ja zh uz km lo my ne bn si ta id ms tl fil fa ps tg ky tk bo dz mi sm to fj "
    "en fr de es ru ar pt".split(),
)
def test_region_and_major_languages_are_present(tag: str) -> None:
    assert tag in LANGUAGES
    assert normalise_language(tag) == tag


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        (tag, code)
        for tag, entry in LANGUAGES.items()
        for code in [entry.get("iso639_2b"), entry.get("iso639_2t"), *entry.get("iso639_3", [])]
        if code
    ],
)
def test_every_iso_639_code_finds_its_language(tag: str, code: str) -> None:
    assert normalise_language(code) == tag
    assert normalise_language(code.upper()) == tag


@pytest.mark.parametrize(
    ("tag", "name"),
    [(tag, name) for tag, entry in LANGUAGES.items() for name in entry["names"]]
    + [
        (fuller, name)
        for entry in LANGUAGES.values()
        for fuller, names in (entry.get("tags") or {}).items()
        for name in names
    ],
)
def test_every_language_name_finds_its_tag(tag: str, name: str) -> None:
    assert normalise_language(name) == tag


@pytest.mark.parametrize(("tag", "scripts"), [(t, e["scripts"]) for t, e in LANGUAGES.items()])
def test_default_scripts(tag: str, scripts: list[str]) -> None:
    from mappings.normalisers.languages import default_scripts

    assert default_scripts(tag) == tuple(scripts)


# --- domains and categories -------------------------------------------------------------

DOMAINS = load_vocabulary("domains")
CATEGORY_VOCABULARY = load_vocabulary("categories")


def test_domain_vocabulary_has_exactly_the_five_convention_domains() -> None:
    assert set(DOMAINS) == {
        "oral_traditions", "performing_arts", "social_practices", "knowledge_nature", "craftsmanship"
    }
    assert all(_strings(phrases) for by_language in DOMAINS.values() for phrases in by_language.values())


@pytest.mark.parametrize(
    ("domain", "phrase"),
    [
        (domain, phrase)
        for domain, by_language in DOMAINS.items()
        for phrases in by_language.values()
        for phrase in phrases
    ],
)
def test_every_domain_phrase_finds_its_domain(domain: str, phrase: str) -> None:
    assert domain in ich_domains([phrase])


def test_category_vocabulary_has_exactly_the_four_categories() -> None:
    assert set(CATEGORY_VOCABULARY) == {"element", "resource", "stakeholder", "event"}


@pytest.mark.parametrize(
    ("category", "phrase"),
    [
        (category, phrase)
        for category, by_language in CATEGORY_VOCABULARY.items()
        for phrases in by_language.values()
        for phrase in phrases
    ],
)
def test_every_category_phrase_finds_its_category(category: str, phrase: str) -> None:
    assert category_from_type(phrase) == category


# --- media and rights -------------------------------------------------------------------

MEDIA = load_vocabulary("media")
KINDS = {"image", "video", "audio", "text", "other"}


def test_media_vocabulary_uses_only_the_five_kinds() -> None:
    for field in ("dc_types", "mime_types", "mime_majors", "extensions", "hosts"):
        assert set(MEDIA[field]) <= KINDS, field
        assert all(_strings(values) for values in MEDIA[field].values()), field


@pytest.mark.parametrize(
    ("kind", "extension"), [(k, e) for k, exts in MEDIA["extensions"].items() for e in exts]
)
def test_every_extension_gives_its_kind(kind: str, extension: str) -> None:
    assert media_type(url=f"https://example.org/files/item.{extension}") == kind


@pytest.mark.parametrize(("kind", "dc_type"), [(k, t) for k, ts in MEDIA["dc_types"].items() for t in ts])
def test_every_dc_type_gives_its_kind(kind: str, dc_type: str) -> None:
    assert media_type(dc_type=dc_type) == kind


@pytest.mark.parametrize(("kind", "host"), [(k, h) for k, hs in MEDIA["hosts"].items() for h in hs])
def test_every_host_gives_its_kind(kind: str, host: str) -> None:
    assert media_type(url=f"https://{host}/x/y") == kind
    assert media_type(url=f"https://sub.{host}/x/y") == kind


@pytest.mark.parametrize(
    ("kind", "mime"), [(k, m) for k, ms in MEDIA["mime_types"].items() for m in ms]
)
def test_every_mime_type_gives_its_kind(kind: str, mime: str) -> None:
    assert media_type(fmt=mime) == kind
    assert media_type(fmt=mime.upper() + "; charset=UTF-8") == kind


RIGHTS = load_vocabulary("rights")


def test_rightsstatements_lists_all_twelve() -> None:
    assert len(RIGHTS["rightsstatements"]) == 12


@pytest.mark.parametrize(
    ("code", "version"),
    [(code, v) for code, entry in RIGHTS["creative_commons"].items() for v in entry["versions"]],
)
def test_every_creative_commons_version_is_recognised(code: str, version: str) -> None:
    label, uri = normalise_rights(f"http://creativecommons.org/licenses/{code}/{version}/")
    assert uri == f"https://creativecommons.org/licenses/{code}/{version}/"
    assert label == f"{RIGHTS['creative_commons'][code]['label']} {version}"
