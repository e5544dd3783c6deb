"""Table-driven tests of mappings.normalisers (one table per function, many scripts)."""

from __future__ import annotations

import dataclasses

import pytest

from mappings.normalisers import (
    ParsedDate,
    category_from_type,
    clean_text,
    guess_language,
    ich_domains,
    media_type,
    normalise_country,
    normalise_language,
    normalise_languages,
    normalise_rights,
    parse_date,
    with_script,
)

# --- clean_text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Pansori  ", "Pansori"),
        ("\tQuan ho\u0323 Ba\u0306\u0301c Ninh\n", "Quan họ Bắc Ninh"),  # NFD -> NFC
        ("\u3000판소리\u00a0", "판소리"),  # ideographic space and NBSP are whitespace
        ("Two  spaces   inside", "Two  spaces   inside"),  # inner whitespace untouched
        ("MiXeD CaSe", "MiXeD CaSe"),
        ("ﾊﾟﾝｿﾘ", "ﾊﾟﾝｿﾘ"),  # half-width kana: NFKC would change it, NFC must not
        ("", ""),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


# --- normalise_country ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Việt Nam", "VN"),
        ("VIỆT NAM", "VN"),
        ("VN", "VN"),
        ("VNM", "VN"),
        ("Korea, Republic of", "KR"),
        ("Republic of Korea", "KR"),
        ("South Korea", "KR"),
        ("대한민국", "KR"),
        ("한국", "KR"),
        ("Kazakhstan", "KZ"),
        ("Қазақстан", "KZ"),
        ("Казахстан", "KZ"),
        ("Qazaqstan", "KZ"),
        ("Mongolia", "MN"),
        ("Монгол Улс", "MN"),
        ("Монголия", "MN"),
        ("ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ", "MN"),
        ("Japan", "JP"),
        ("日本", "JP"),
        ("China", "CN"),
        ("中国", "CN"),
        ("中華人民共和國", "CN"),
        ("Thailand", "TH"),
        ("ประเทศไทย", "TH"),
        ("ไทย", "TH"),
        ("Cambodia", "KH"),
        ("កម្ពុជា", "KH"),
        ("Lao PDR", "LA"),
        ("Lao People's Democratic Republic", "LA"),
        ("ລາວ", "LA"),
        ("India", "IN"),
        ("भारत", "IN"),
        ("Iran (Islamic Republic of)", "IR"),
        ("ایران", "IR"),
        ("Uzbekistan", "UZ"),
        ("Oʻzbekiston", "UZ"),
        ("O'zbekiston", "UZ"),
        ("Ўзбекистон", "UZ"),
        ("Timor-Leste", "TL"),
        ("Micronesia (Federated States of)", "FM"),
        ("the Philippines", "PH"),
        ("Sri Lanka", "LK"),
        ("ශ්‍රී ලංකාව", "LK"),
        ("Myanmar", "MM"),
        ("မြန်မာ", "MM"),
        ("Nepal", "NP"),
        ("नेपाल", "NP"),
        ("Bhutan", "BT"),
        ("Maldives", "MV"),
        ("Samoa", "WS"),
        ("Tonga", "TO"),
        ("Aotearoa New Zealand", "NZ"),
        ("  Viet   Nam  ", "VN"),
    ],
)
def test_normalise_country_names_and_codes(raw: str, expected: str) -> None:
    assert normalise_country(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Phú Thọ province, Viet Nam", "VN"),
        ("Seoul, Korea, Republic of", "KR"),
        ("Hue (Viet Nam)", "VN"),
        ("Almaty; Kazakhstan", "KZ"),
        ("Luang Prabang, ລາວ", "LA"),
        ("Jeonju, 대한민국", "KR"),
        ("Georgia, United States", "US"),  # the general place comes last
        ("Atlanta, Georgia, USA", "US"),
        ("Tbilisi, Georgia", "GE"),
        ("London, UK", "GB"),
    ],
)
def test_normalise_country_inside_a_coverage_string(raw: str, expected: str) -> None:
    assert normalise_country(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "Indiana",  # contains "India" inside a word
        "Indian music",
        "Chinatown",
        "Omaha",  # contains "Oman"
        "vn",  # lower-case two letters are words, not codes
        "in",
        "to",
        "Tradition",
        "",
        "   ",
        "Mekong river basin",
        "日本語",  # the language, not the country: no substring matching inside words
        "us",  # two lower-case letters: a word
        "uk",
        "Nguyễn Minh Đức",  # Vietnamese personal names are not exonyms here
        "Anh",
    ],
)
def test_normalise_country_negatives(raw: str) -> None:
    assert normalise_country(raw) is None


# --- normalise_language -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("en", "en"),
        ("en-US", "en-US"),
        ("en_gb", "en-GB"),
        ("zh-Hant", "zh-Hant"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("ja-Latn", "ja-Latn"),
        ("eng", "en"),
        ("English", "en"),
        ("ENGLISH", "en"),
        ("Tiếng Việt", "vi"),
        ("Tieng Viet", "vi"),
        ("vie", "vi"),
        ("한국어", "ko"),
        ("kor", "ko"),
        ("Korean (한국어)", "ko"),
        ("kaz", "kk"),
        ("Қазақ тілі", "kk"),
        ("mon", "mn"),
        ("khk", "mn"),
        ("Монгол хэл", "mn"),
        ("Traditional Mongolian", "mn-Mong"),
        ("tib", "bo"),  # ISO 639-2/B
        ("bod", "bo"),  # ISO 639-2/T
        ("chi", "zh"),
        ("Chinese (Traditional)", "zh-Hant"),
        ("繁體中文", "zh-Hant"),
        ("简体中文", "zh-Hans"),
        ("日本語", "ja"),
        ("ภาษาไทย", "th"),
        ("ພາສາລາວ", "lo"),
        ("ភាសាខ្មែរ", "km"),
        ("မြန်မာဘာသာ", "my"),
        ("नेपाली", "ne"),
        ("বাংলা", "bn"),
        ("සිංහල", "si"),
        ("தமிழ்", "ta"),
        ("Bahasa Indonesia", "id"),
        ("Bahasa Melayu", "ms"),
        ("may", "ms"),
        ("Tagalog", "tl"),
        ("fil", "fil"),
        ("Filipino", "fil"),
        ("Farsi", "fa"),
        ("فارسی", "fa"),
        ("per", "fa"),
        ("Dari", "fa-AF"),
        ("پښتو", "ps"),
        ("Тоҷикӣ", "tg"),
        ("kir", "ky"),
        ("tuk", "tk"),
        ("Oʻzbek tili", "uz"),
        ("uzb", "uz"),
        ("dzo", "dz"),
        ("Māori", "mi"),
        ("mao", "mi"),
        ("Samoan", "sm"),
        ("ton", "to"),
        ("fij", "fj"),
        ("Tok Pisin", "tpi"),
        ("Lao", "lo"),
        ("Korean language", "ko"),
        ("English (United States)", "en-US"),
        ("Portuguese (Brazil)", "pt-BR"),
        ("Chinese (Taiwan)", "zh-TW"),
        ("English.", "en"),
        ("ger", "de"),
        ("lat", "la"),
        ("no", "no"),  # Norwegian, a real code (and a YAML 1.1 trap)
        ("mul", "mul"),
    ],
)
def test_normalise_language(raw: str, expected: str) -> None:
    assert normalise_language(raw) == expected


@pytest.mark.parametrize(
    "raw", ["zz", "us", "und", "xyz", "", "Klingonish", "English; Korean", "Latn", "other", "Undefined"]
)
def test_normalise_language_unknown_is_none(raw: str) -> None:
    assert normalise_language(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("eng; kor", ["en", "ko"]),
        ("English, Korean", ["en", "ko"]),
        ("vi/en/vi", ["vi", "en"]),
        ("Thai and Lao", ["th", "lo"]),
        ("zh-Hant", ["zh-Hant"]),
        ("zz; qq", []),
    ],
)
def test_normalise_languages_splits_lists(raw: str, expected: list[str]) -> None:
    assert normalise_languages(raw) == expected


# --- with_script ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "text", "expected"),
    [
        ("mn", "ᠮᠣᠩᠭᠣᠯ", "mn-Mong"),
        ("mn", "Монгол", "mn"),
        ("uz", "Ўзбекистон", "uz-Cyrl"),
        ("uz", "Oʻzbekiston", "uz"),
        ("uz-UZ", "Ўзбекистон", "uz-Cyrl-UZ"),
        ("ko", "판소리", "ko"),
        ("ko", "判消理", "ko"),  # hanja is a default script of Korean
        ("ko", "Pansori", "ko-Latn"),
        ("ja", "能楽", "ja"),
        ("ja", "のうがく", "ja"),
        ("ja", "Nōgaku", "ja-Latn"),
        ("zh", "昆曲", "zh"),
        ("zh", "Kunqu", "zh-Latn"),
        ("kk", "Қазақстан", "kk"),
        ("kk", "Qazaqstan", "kk-Latn"),
        ("sr", "Srbija", "sr-Latn"),
        ("zh-Hant", "Kunqu", "zh-Hant"),  # an explicit script subtag is trusted
        ("vi", "123 — ", "vi"),  # no letters, nothing to say
        ("xx", "ᠮᠣᠩᠭᠣᠯ", "xx"),  # unknown language: default script unknown
        ("en", "Hello", "en"),
    ],
)
def test_with_script(tag: str, text: str, expected: str) -> None:
    assert with_script(tag, text) == expected


# --- guess_language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("판소리", "ko"),
        ("강릉단오제 (江陵端午祭)", "ko"),  # Hangul + hanja
        ("판소리 (パンソリ) 판소리 공연", "ko"),  # Hangul outnumbers kana
        ("能楽の公演", "ja"),
        ("なまはげ", "ja"),
        ("カブキ", "ja"),
        ("昆曲", "zh"),
        ("โขน", "th"),
        ("ລຳລາວ", "lo"),
        ("ល្ខោនខោល", "km"),
        ("ရုပ်သေး", "my"),
        ("ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ", "mn-Mong"),
        ("བོད་ཀྱི་ཟློས་གར", "bo"),
        ("रामलीला", "hi"),
        ("বাউল গান", "bn"),
        ("කෝලම්", "si"),
        ("கூடியாட்டம்", "ta"),
        ("ქართული პოლიფონია", "ka"),
        ("Դուդուկ", "hy"),
        ("Қазақ күйі", "kk"),
        ("Әсет", "kk"),
        ("Ўзбекистон", "uz-Cyrl"),
        ("Ҳунармандчилик", "uz-Cyrl"),
        ("Монгол ардын өв соёл", "mn"),
        ("Монгол ардын уртын дуу", None),  # no letter that tells Mongolian from Russian
        ("Тоҷикистон", "tg"),
        ("Кыргыз элинин жаңы жылы жөнүндө", "ky"),
        ("Жаңа", "kk"),
        ("Нематериальное культурное наследие России", "ru"),
        ("Москва", None),  # too short to call plain Cyrillic Russian
        ("نوروز پارسی", "fa"),
        ("گلیم", "fa"),
        ("عيد الأضحى", None),  # Arabic script without Persian letters
        ("اردو ادب ہے", "ur"),
        ("پښتو ټپه", "ps"),
        ("Quan họ Bắc Ninh", "vi"),
        ("Nhã nhạc cung đình Huế", "vi"),
        ("Đờn ca tài tử", "vi"),
        ("Oʻzbek xalq ogʻzaki ijodi", "uz"),
        ("Pansori epic chant", None),  # plain Latin: no English guess
        ("Gamelan", None),
        ("Café crème", None),  # Latin diacritics that are not Vietnamese-specific
        ("O'Neil's book", None),  # one ASCII apostrophe is not Uzbek
        ("12345", None),
        ("", None),
    ],
)
def test_guess_language(text: str, expected: str | None) -> None:
    assert guess_language(text) == expected


# --- parse_date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "edtf", "start", "end", "approximate"),
    [
        ("1998", "1998", 1998, 1998, False),
        ("c. 1900", "1900~", 1900, 1900, True),
        ("circa 1900", "1900~", 1900, 1900, True),
        ("ca. 1900", "1900~", 1900, 1900, True),
        ("c.1900", "1900~", 1900, 1900, True),
        ("1900~", "1900~", 1900, 1900, True),
        ("1990-1995", "1990/1995", 1990, 1995, False),
        ("1990–1995", "1990/1995", 1990, 1995, False),
        ("1990 - 1995", "1990/1995", 1990, 1995, False),
        ("1990 to 1995", "1990/1995", 1990, 1995, False),
        ("1990/1995", "1990/1995", 1990, 1995, False),
        ("1990-95", "1990/1995", 1990, 1995, False),
        ("1990s", "199X", 1990, 1999, False),
        ("1990's", "199X", 1990, 1999, False),
        ("19th century", "18XX", 1800, 1899, False),
        ("XIX century", "18XX", 1800, 1899, False),
        ("19세기", "18XX", 1800, 1899, False),
        ("19世紀", "18XX", 1800, 1899, False),
        ("thế kỷ XIX", "18XX", 1800, 1899, False),
        ("2021-11-15", "2021-11-15", 2021, 2021, False),
        ("2021-11-15T10:00:00Z", "2021-11-15T10:00:00Z", 2021, 2021, False),
        ("2021-11-15T10:00:00+0900", "2021-11-15T10:00:00+09:00", 2021, 2021, False),
        ("2021-11-15 10:00", "2021-11-15T10:00:00", 2021, 2021, False),
        ("20211115", "2021-11-15", 2021, 2021, False),
        ("15/11/2021", "2021-11-15", 2021, 2021, False),
        ("11/15/2021", "2021-11-15", 2021, 2021, False),
        ("05/11/2021", "2021", 2021, 2021, False),  # day/month order unknown: year only
        ("[1998?]", "1998?", 1998, 1998, True),
        ("1998?", "1998?", 1998, 1998, True),
        ("[1998]", "1998", 1998, 1998, False),
        ("Spring 2003", "2003-21", 2003, 2003, False),
        ("winter 2003", "2003-24", 2003, 2003, False),
        ("2003년 봄", "2003-21", 2003, 2003, False),
        ("2003-05", "2003-05", 2003, 2003, False),
        ("พ.ศ. 2564", "2021", 2021, 2021, False),
        ("พ.ศ. ๒๕๖๔", "2021", 2021, 2021, False),
        ("2021년 11월 15일", "2021-11-15", 2021, 2021, False),
        ("2021년", "2021", 2021, 2021, False),
        ("2021年11月15日", "2021-11-15", 2021, 2021, False),
        ("２０２１年１１月", "2021-11", 2021, 2021, False),  # full-width digits
        ("令和3年", "2021", 2021, 2021, False),
        ("平成元年5月1日", "1989-05-01", 1989, 1989, False),
        ("昭和39年", "1964", 1964, 1964, False),
        ("民國110年", "2021", 2021, 2021, False),
        ("ngày 15 tháng 11 năm 2021", "2021-11-15", 2021, 2021, False),
        ("năm 2021", "2021", 2021, 2021, False),
        ("November 15, 2021", "2021-11-15", 2021, 2021, False),
        ("15 November 2021", "2021-11-15", 2021, 2021, False),
        ("Nov 2021", "2021-11", 2021, 2021, False),
        ("약 1900년", "1900~", 1900, 1900, True),
        ("1900년경", "1900~", 1900, 1900, True),
        ("2021-11/2021-12", "2021-11/2021-12", 2021, 2021, False),
        ("c. 1900-1920", "1900~/1920", 1900, 1920, True),
        ("from 1990 to 1995", "1990/1995", 1990, 1995, False),
        ("2021.11.15", "2021-11-15", 2021, 2021, False),
        ("2021. 11. 15.", "2021-11-15", 2021, 2021, False),  # Korean dotted style
        ("2021/11/15", "2021-11-15", 2021, 2021, False),
        ("2021.11", "2021-11", 2021, 2021, False),
        ("2021/22", "2021/2022", 2021, 2022, False),
        ("15 พฤศจิกายน 2564", "2021-11-15", 2021, 2021, False),  # Thai month, Buddhist era
        ("พฤศจิกายน พ.ศ. 2564", "2021-11", 2021, 2021, False),
        ("15 พฤศจิกายน ค.ศ. 2021", "2021-11-15", 2021, 2021, False),  # Christian era marked
        ("between 1990 and 1995", "1990/1995", 1990, 1995, False),
        # Quirks seen in the captured OAI-PMH samples (CDL, Tethys, NSDL...).
        ("1922–1972, undated", "1922/1972", 1922, 1972, False),
        ("1925 1925", "1925", 1925, 1925, False),
        ("ca. 1973 ca. 1973", "1973~", 1973, 1973, True),
        ("1927;", "1927", 1927, 1927, False),
        ("1998.", "1998", 1998, 1998, False),
        ("Fri, 14 Nov 2008 09:07:25 GMT", "2008-11-14T09:07:25Z", 2008, 2008, False),
        ("Mon, 9 Apr 2007 14:45:43 +0900", "2007-04-09T14:45:43+09:00", 2007, 2007, False),
        ("Late 19th century", "18XX", 1800, 1899, False),
        ("early 1990s", "199X", 1990, 1999, False),
    ],
)
def test_parse_date(raw: str, edtf: str, start: int, end: int, approximate: bool) -> None:
    assert parse_date(raw) == ParsedDate(edtf, start, end, approximate)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "n.d.",
        "undated",
        "hello",
        "2021-13-01",  # no month 13
        "2021-02-30",  # no 30 February
        "2021/11",  # neither a month (ambiguous with a range) nor a valid range
        "2021.13.01",
        "1995-1990",  # range running backwards
        "31/31/2021",
        "cat 1900",
        "45th century",
        "12345",
    ],
)
def test_parse_date_unknown_is_none(raw: str) -> None:
    assert parse_date(raw) is None


@pytest.mark.parametrize(
    ("raw", "edtf", "start", "end", "approximate"),
    [
        ("after 1800", "1800/..", 1800, None, False),
        ("ca. after 1650", "1650~/..", 1650, None, True),
        ("[ca. after 1800]", "1800~/..", 1800, None, True),
        ("before 1900", "../1900", None, 1900, False),
        ("1990년 이후", "1990/..", 1990, None, False),
        ("1945年以前", "../1945", None, 1945, False),
    ],
)
def test_parse_date_open_ranges(
    raw: str, edtf: str, start: int | None, end: int | None, approximate: bool
) -> None:
    assert parse_date(raw) == ParsedDate(edtf, start, end, approximate)


@pytest.mark.parametrize(
    "raw",
    [
        "1974, 2005",  # a set of dates is EDTF level 2: not claimed as a range
        "after 19th century",  # not "from 1800 on"
        "Mission period",
        "TEST dcterms:date",
        "Fri, 31 Feb 2008 09:07:25 GMT",
    ],
)
def test_parse_date_refuses_what_it_cannot_say_exactly(raw: str) -> None:
    assert parse_date(raw) is None


def test_parsed_date_is_frozen() -> None:
    parsed = parse_date("1998")
    assert parsed is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.edtf = "1999"  # type: ignore[misc]


# --- ich_domains ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["folk song"], ["performing_arts"]),
        (["dân ca quan họ"], ["performing_arts"]),
        (["민요"], ["performing_arts"]),
        (["민요를 부르다"], ["performing_arts"]),  # Hangul with a particle
        (["Music"], ["performing_arts"]),
        (["Folk Dances of Korea"], ["performing_arts"]),  # plural
        (["múa rối nước"], ["performing_arts"]),
        (["탈춤"], ["performing_arts"]),
        (["ritual"], ["social_practices"]),
        (["Lễ hội Gióng"], ["social_practices"]),
        (["Harvest festival"], ["social_practices"]),
        (["craft"], ["craftsmanship"]),
        (["Handicrafts"], ["craftsmanship"]),
        (["nghề thủ công truyền thống"], ["craftsmanship"]),
        (["공예"], ["craftsmanship"]),
        (["weaving"], ["craftsmanship"]),
        (["ทอผ้า"], ["craftsmanship"]),
        (["epic"], ["oral_traditions"]),
        (["Manas epic"], ["oral_traditions"]),
        (["伝統医学"], ["knowledge_nature"]),
        (["traditional medicine"], ["knowledge_nature"]),
        (["Music and dance", "ritual", "weaving"], ["craftsmanship", "performing_arts", "social_practices"]),
        (["dance", "Dance", "DANCE"], ["performing_arts"]),  # unique
        (["Hát then"], ["performing_arts"]),
        (["씻김굿"], ["social_practices"]),
        ([], []),
    ],
)
def test_ich_domains(values: list[str], expected: list[str]) -> None:
    assert ich_domains(values) == expected


@pytest.mark.parametrize(
    "values",
    [
        ["mua bán"],  # Vietnamese "buy and sell": diacritics matter (múa = dance)
        ["party"],  # "art" inside a word
        ["Ethnography"],
        ["crafty politics"],  # "craft" inside a word
        ["Annual report 2021"],
        ["ấn tượng"],  # "impression": not a domain keyword
        ["then we left"],  # English "then" is not Vietnamese Then singing
        ["Atlas of Central Asia"],  # not Uzbek atlas silk
        ["갓난아기"],  # "newborn" contains 갓 (the hat) as a syllable
        ["유기농 농산물"],  # "organic" contains 유기 (brassware)
        ["governance architecture"],
        ["Earthquakes--Personal narratives"],
        ["flax seed"],
    ],
)
def test_ich_domains_negatives(values: list[str]) -> None:
    assert ich_domains(values) == []


def test_ich_domains_accepts_any_iterable() -> None:
    assert ich_domains(v for v in ("folk song", "lễ hội")) == ["performing_arts", "social_practices"]


# --- category_from_type -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Intangible Cultural Heritage", "element"),
        ("ICH element", "element"),
        ("practice", "element"),
        ("무형문화유산", "element"),
        ("Di sản văn hóa phi vật thể", "element"),
        ("無形文化遺産", "element"),
        ("Text", "resource"),
        ("Book", "resource"),
        ("info:eu-repo/semantics/article", "resource"),
        ("info:eu-repo/semantics/conferenceObject", "resource"),
        ("Thesis", "resource"),
        ("Dataset", "resource"),
        ("http://purl.org/dc/dcmitype/StillImage", "resource"),
        ("Sách", "resource"),
        ("보고서", "resource"),
        ("Organization", "stakeholder"),
        ("NGO", "stakeholder"),
        ("Museum", "stakeholder"),
        ("Community", "stakeholder"),
        ("단체", "stakeholder"),
        ("Event", "event"),
        ("http://purl.org/dc/dcmitype/Event", "event"),
        ("Exhibition", "event"),
        ("Call for papers", "event"),
        ("News", "event"),
        ("Hội thảo khoa học", "event"),
        ("학술대회", "event"),
        # The head of the phrase decides.
        ("Exhibition catalogue", "resource"),
        ("Training manual", "resource"),
        ("Seminar on ICH safeguarding", "event"),
        ("Report of the expert meeting", "resource"),
        ("Museum of Folk Art", "stakeholder"),
        ("Báo cáo hội thảo", "resource"),  # Vietnamese: head first
        ("학술대회 자료집", "resource"),  # Korean: head last
        # dc:type values seen in the captured samples (EPrints, DSpace, NSDL, CDL).
        ("Conference or Workshop Item", "resource"),
        ("PeerReviewed", "resource"),
        ("NonPeerReviewed", "resource"),
        ("doc-type:ResearchData", "resource"),
        ("info:eu-repo/semantics/doctoralThesis", "resource"),
        ("Interactive Simulation", "resource"),
        ("Instructional Material", "resource"),
        ("dokument obrazowy", "resource"),
    ],
)
def test_category_from_type(raw: str, expected: str) -> None:
    assert category_from_type(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", "Miscellaneous", "xyz", "Other", "Clinical practice", "Program"]
)
def test_category_from_type_unknown_is_none(raw: str) -> None:
    assert category_from_type(raw) is None


# --- media_type -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"dc_type": "Image"}, "image"),
        ({"dc_type": "StillImage"}, "image"),
        ({"dc_type": "http://purl.org/dc/dcmitype/StillImage"}, "image"),
        ({"dc_type": "MovingImage"}, "video"),
        ({"dc_type": "Sound"}, "audio"),
        ({"dc_type": "Text"}, "text"),
        ({"dc_type": "사진"}, "image"),
        ({"dc_type": "Dataset"}, "other"),
        ({"fmt": "image/jpeg"}, "image"),
        ({"fmt": "image/x-unknown-kind"}, "image"),
        ({"fmt": "video/mp4"}, "video"),
        ({"fmt": "audio/mpeg"}, "audio"),
        ({"fmt": "application/pdf"}, "text"),
        ({"fmt": "text/html; charset=utf-8"}, "other"),
        ({"fmt": "JPEG"}, "image"),
        ({"fmt": "mp3"}, "audio"),
        ({"url": "http://example.org/files/photo.jpg"}, "image"),
        ({"url": "https://example.org/a/b/scan.TIF?size=full"}, "image"),
        ({"url": "https://example.org/clip.webm"}, "video"),
        ({"url": "https://example.org/song.mp3"}, "audio"),
        ({"url": "https://example.org/report.pdf"}, "text"),
        ({"url": "https://www.youtube.com/watch?v=abc"}, "video"),
        ({"url": "https://youtu.be/abc"}, "video"),
        ({"url": "https://vimeo.com/12345"}, "video"),
        ({"url": "https://example.org/record/12"}, "other"),
        ({"url": "https://user@www.youtube.com:443/watch?v=1"}, "video"),  # user info and port
        ({"url": "//vimeo.com/1"}, "video"),  # scheme-relative
        ({"url": "files/a.png"}, "image"),  # relative
        ({"url": "https://example.org/a.b/c"}, "other"),  # a dot in a folder is no extension
        ({"url": "mailto:someone@example.org"}, "other"),
        # The file's own format beats the record's dc:type.
        ({"dc_type": "Text", "url": "https://example.org/cover.png"}, "image"),
        ({"dc_type": "Image", "fmt": "application/pdf"}, "text"),
        ({"dc_type": "Sound", "url": "https://example.org/record/12"}, "audio"),
        ({"fmt": "jp2"}, "image"),
        ({"fmt": "image/vnd.djvu"}, "text"),  # the exact MIME type beats its major type
        ({"fmt": "application/vnd.ms-powerpoint"}, "text"),
        ({"fmt": "20 x 25 cm.", "dc_type": "Photograph"}, "image"),  # a size says nothing
        ({"dc_type": "Monograph"}, "text"),
        ({"dc_type": "Lithograph"}, "image"),
        ({}, "other"),
    ],
)
def test_media_type(kwargs: dict[str, str], expected: str) -> None:
    assert media_type(**kwargs) == expected


# --- normalise_rights -------------------------------------------------------------------

_BY_SA_4 = "https://creativecommons.org/licenses/by-sa/4.0/"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CC BY-SA 4.0", ("CC BY-SA 4.0", _BY_SA_4)),
        ("cc by-sa 4.0", ("CC BY-SA 4.0", _BY_SA_4)),
        ("CC-BY-SA-4.0", ("CC BY-SA 4.0", _BY_SA_4)),
        ("http://creativecommons.org/licenses/by-sa/4.0", ("CC BY-SA 4.0", _BY_SA_4)),
        ("http://creativecommons.org/licenses/by-sa/4.0/", ("CC BY-SA 4.0", _BY_SA_4)),
        ("https://creativecommons.org/licenses/by-sa/4.0/legalcode", ("CC BY-SA 4.0", _BY_SA_4)),
        ("https://creativecommons.org/licenses/by-sa/4.0/deed.ko", ("CC BY-SA 4.0", _BY_SA_4)),
        ("http://www.creativecommons.org/licenses/by-sa/4.0/", ("CC BY-SA 4.0", _BY_SA_4)),
        ("Creative Commons Attribution-ShareAlike 4.0 International", ("CC BY-SA 4.0", _BY_SA_4)),
        (
            "Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)",
            ("CC BY-SA 4.0", _BY_SA_4),
        ),
        ("CC BY 2.5", ("CC BY 2.5", "https://creativecommons.org/licenses/by/2.5/")),
        (
            "http://creativecommons.org/licenses/by-nc-nd/3.0/",
            ("CC BY-NC-ND 3.0", "https://creativecommons.org/licenses/by-nc-nd/3.0/"),
        ),
        (
            "https://creativecommons.org/licenses/by-sa/3.0/igo/",
            ("CC BY-SA 3.0 IGO", "https://creativecommons.org/licenses/by-sa/3.0/igo/"),
        ),
        (
            "http://creativecommons.org/licenses/by/2.0/kr/",
            ("CC BY 2.0 KR", "https://creativecommons.org/licenses/by/2.0/kr/"),
        ),
        ("CC0", ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/")),
        ("CC0 1.0", ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/")),
        (
            "http://creativecommons.org/publicdomain/zero/1.0/",
            ("CC0 1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
        ),
        (
            "https://creativecommons.org/publicdomain/mark/1.0/",
            ("Public Domain Mark 1.0", "https://creativecommons.org/publicdomain/mark/1.0/"),
        ),
        ("Public domain", ("Public Domain Mark 1.0", "https://creativecommons.org/publicdomain/mark/1.0/")),
        ("http://rightsstatements.org/vocab/InC/1.0/", ("In Copyright", "http://rightsstatements.org/vocab/InC/1.0/")),
        ("https://rightsstatements.org/vocab/InC/1.0", ("In Copyright", "http://rightsstatements.org/vocab/InC/1.0/")),
        (
            "https://rightsstatements.org/page/NoC-US/1.0/?language=en",
            ("No Copyright - United States", "http://rightsstatements.org/vocab/NoC-US/1.0/"),
        ),
        (
            "http://rightsstatements.org/vocab/InC-EDU/1.0/",
            ("In Copyright - Educational Use Permitted", "http://rightsstatements.org/vocab/InC-EDU/1.0/"),
        ),
        ("Copyright Not Evaluated", ("Copyright Not Evaluated", "http://rightsstatements.org/vocab/CNE/1.0/")),
        ("No Known Copyright", ("No Known Copyright", "http://rightsstatements.org/vocab/NKC/1.0/")),
        # A statement that mentions a licence keeps its own words.
        (
            "© 2020 ICHCAP. Licensed under CC BY-NC 4.0",
            ("© 2020 ICHCAP. Licensed under CC BY-NC 4.0", "https://creativecommons.org/licenses/by-nc/4.0/"),
        ),
        (
            "Creative Commons Attribution 4.0 International (CC BY 4.0)",
            ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
        ),
        (
            "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International License",
            ("CC BY-NC-ND 4.0", "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
        ),
        ("All rights reserved", ("All rights reserved", None)),
        ("cc_by", ("cc_by", None)),  # EPrints' versionless licence code
        ("© 국립무형유산원", ("© 국립무형유산원", None)),
        ("CC BY-SA", ("CC BY-SA", None)),  # no version: no URI can be given
        ("CC BY-SA 9.0", ("CC BY-SA 9.0", None)),  # no such version
        ("http://creativecommons.org/licenses/by-xx/4.0/", ("http://creativecommons.org/licenses/by-xx/4.0/", None)),
        ("  ", (None, None)),
        ("", (None, None)),
    ],
)
def test_normalise_rights(raw: str, expected: tuple[str | None, str | None]) -> None:
    assert normalise_rights(raw) == expected


_RIGHTSSTATEMENTS = [
    "InC", "InC-OW-EU", "InC-EDU", "InC-NC", "InC-RUU", "NoC-CR",
    "NoC-NC", "NoC-OKLR", "NoC-US", "CNE", "UND", "NKC",
]


@pytest.mark.parametrize("statement_id", _RIGHTSSTATEMENTS)
@pytest.mark.parametrize(
    "template",
    [
        "http://rightsstatements.org/vocab/{}/1.0/",
        "https://rightsstatements.org/vocab/{}/1.0",
        "http://rightsstatements.org/page/{}/1.0/",
        "https://rightsstatements.org/page/{}/1.0/?language=en",
    ],
)
def test_all_twelve_rightsstatements(statement_id: str, template: str) -> None:
    label, uri = normalise_rights(template.format(statement_id))
    assert uri == f"http://rightsstatements.org/vocab/{statement_id}/1.0/"
    assert label is not None and label != template.format(statement_id)
    # The label maps back to the same statement.
    assert normalise_rights(label) == (label, uri)


@pytest.mark.parametrize("code", ["by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd"])
@pytest.mark.parametrize("version", ["2.0", "2.5", "3.0", "4.0"])
@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("slash", ["", "/"])
def test_every_creative_commons_uri_form(code: str, version: str, scheme: str, slash: str) -> None:
    canonical = f"https://creativecommons.org/licenses/{code}/{version}/"
    label = f"CC {code.upper()} {version}"
    assert normalise_rights(f"{scheme}://creativecommons.org/licenses/{code}/{version}{slash}") == (label, canonical)
    assert normalise_rights(label) == (label, canonical)
