"""Free-text dates -> EDTF (Extended Date/Time Format, ISO 8601-2 levels 0-1).

Never invents precision: "05/11/2021" (day and month ambiguous) gives the year only,
"1990s" gives the decade ``199X``, "19th century" the century ``18XX``.
Unknown text gives None so that the crosswalk can record a diagnostic.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class ParsedDate:
    """An understood date: its EDTF form and the span of years it covers.

    ``approximate`` is true for EDTF-qualified dates (``~`` circa, ``?`` uncertain,
    ``%`` both): search can then widen ranges or rank them lower.
    """

    edtf: str
    start_year: int | None
    end_year: int | None
    approximate: bool = False


# EDTF level 1 seasons (ISO 8601-2 sub-year groupings 21-24).
_SEASONS = {
    "spring": 21, "summer": 22, "autumn": 23, "fall": 23, "winter": 24,
    "봄": 21, "여름": 22, "가을": 23, "겨울": 24,
    "春": 21, "夏": 22, "秋": 23, "冬": 24,
    "mùa xuân": 21, "mùa hè": 22, "mùa hạ": 22, "mùa thu": 23, "mùa đông": 24,
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# First Gregorian year of each era is year 1 ("元年") of the era.
_JAPANESE_ERAS = {"令和": 2019, "平成": 1989, "昭和": 1926, "大正": 1912, "明治": 1868}
_MINGUO_OFFSET = 1911  # 民國 1 = 1912 (Republic of China calendar, used in Taiwan)
_BUDDHIST_OFFSET = 543  # B.E. 2564 = 2021 (Thai solar calendar)
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}

_YEAR = r"(\d{4})"
_APPROX_PREFIX = re.compile(
    r"^(?:circa|ca\.?|c\.?|approximately|approx\.?|about|around|khoảng|대략|약|约|約)\s*"
    r"(?=[\d\[]|after\b|before\b)",
    re.IGNORECASE,
)
_APPROX_SUFFIX = re.compile(r"\s*(?:경|頃|ごろ|左右|前後|년경)$")
_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
)
_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_RANGE_SEPARATOR = re.compile(r"\s*(?:/|–|—|-|\bto\b|~|〜|～|\.\.)\s*", re.IGNORECASE)
_SHORT_RANGE = re.compile(r"(\d{4})\s*[-–—/]\s*(\d{2})")
_DECADE = re.compile(r"(\d{3})0\s*'?s")
_CENTURY = re.compile(
    r"(?:(\d{1,2})(?:st|nd|rd|th)?|([ivxlc]+))\s*(?:century|cent\.?|c\.)"
    r"|thế\s*kỷ\s*(?:(\d{1,2})|([ivxlc]+))"
    r"|(\d{1,2})\s*(?:세기|世紀|世纪)",
    re.IGNORECASE,
)
# Year first is unambiguous: "2021.11.15", "2021. 11. 15." (Korean), "2021/11/15" (Japanese).
_YMD_SEPARATED = re.compile(r"(\d{4})\s*[./]\s*(\d{1,2})(?:\s*[./]\s*(\d{1,2}))?\s*\.?")
_THAI_MONTHS = {
    name: number
    for number, name in enumerate(
        ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม",
         "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"],
        start=1,
    )
}
_THAI_DATE = re.compile(
    r"(?:(\d{1,2})\s*)?(" + "|".join(_THAI_MONTHS) + r")\s*(?:พ\.\s*ศ\.\s*|ค\.\s*ศ\.\s*)?(\d{4})"
)
# Thai dates without an era mark are Buddhist-era when the year is this large.
_FIRST_BUDDHIST_YEAR_IN_USE = 2400
_SLASHED = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
_CJK_DATE = re.compile(r"(\d{4})\s*[년年]\s*(?:(\d{1,2})\s*[월月]\s*(?:(\d{1,2})\s*[일日])?)?")
_ERA_DATE = re.compile(
    r"(令和|平成|昭和|大正|明治|民國|民国)\s*(\d{1,3}|元)\s*年\s*(?:(\d{1,2})\s*月\s*(?:(\d{1,2})\s*日)?)?"
)
_VIETNAMESE_DATE = re.compile(
    r"(?:ngày\s*(\d{1,2})\s*)?(?:tháng\s*(\d{1,2})\s*)?năm\s*(\d{4})", re.IGNORECASE
)
_BUDDHIST = re.compile(r"(?:พ\.\s*ศ\.|B\.\s*E\.|BE)\s*(\d{4})", re.IGNORECASE)
_ENGLISH_DMY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})", re.IGNORECASE)
_ENGLISH_MDY = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.IGNORECASE)
_ENGLISH_MY = re.compile(r"([a-z]+)\.?,?\s+(\d{4})", re.IGNORECASE)
# RFC 2822 (HTTP, RSS, some OAI providers' dc:date): "Fri, 14 Nov 2008 09:07:25 GMT".
_RFC2822 = re.compile(
    r"(?:[a-z]{3},\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?"
    r"\s*(GMT|UTC|UT|Z|[+-]\d{4})?",
    re.IGNORECASE,
)
# Open-ended: "after 1800" -> 1800/.., "before 1900" -> ../1900 (EDTF level 1 open intervals).
_AFTER = re.compile(r"(?:after|since|from|post|later than)\s+(.+)|(.+?)\s*(?:년\s*)?(?:이후|以後|以后|以降)", re.IGNORECASE)
_BEFORE = re.compile(r"(?:before|until|pre|prior to|earlier than)\s+(.+)|(.+?)\s*(?:년\s*)?(?:이전|以前)", re.IGNORECASE)
# "Late 19th century", "early 1990s": the century or decade is still true, just wider.
_PART_OF = re.compile(
    r"^(?:early|mid|middle|late|first half of(?: the)?|second half of(?: the)?|end of(?: the)?|"
    r"beginning of(?: the)?|turn of(?: the)?)[\s-]+(?=.*(?:century|cent\.|\d0\s*'?s))",
    re.IGNORECASE,
)
_FROM_TO = re.compile(r"(?:from|between)\s+(.+?)\s+(?:to|and|until)\s+(.+)", re.IGNORECASE)
_UNDATED = frozenset({"undated", "n.d.", "nd", "s.d.", "no date", "unknown", "date unknown"})
_SEASON_YEAR = re.compile(r"(.+?)\s*,?\s*(\d{4})|(\d{4})\s*(?:년|年)?\s*(.+)")


def _ascii_digits(s: str) -> str:
    # Thai, Devanagari, Khmer, full-width... digits -> ASCII, so one set of patterns serves.
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in s)


def _is_season(edtf: str) -> bool:
    return len(edtf) == 7 and int(edtf[5:7]) >= 21


def _day_ok(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _ymd(year: int, month: int | None = None, day: int | None = None) -> ParsedDate | None:
    if month is None:
        return ParsedDate(f"{year:04d}", year, year)
    if not 1 <= month <= 12:
        return None
    if day is None:
        return ParsedDate(f"{year:04d}-{month:02d}", year, year)
    if not _day_ok(year, month, day):
        return None
    return ParsedDate(f"{year:04d}-{month:02d}-{day:02d}", year, year)


def _roman(numeral: str) -> int:
    values = [_ROMAN[c] for c in numeral.lower()]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _single(text: str) -> ParsedDate | None:
    """One point or unit of time (no range, no qualifier)."""
    text = text.strip().strip(".,")
    if m := _ISO_DATETIME.fullmatch(text):
        year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
        if not _day_ok(year, month, day) or hour > 23 or minute > 59:
            return None
        second = f":{m.group(6)}" if m.group(6) else ":00"
        zone = m.group(7) or ""
        if zone and zone != "Z" and ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        edtf = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}{second}{zone}"
        return ParsedDate(edtf, year, year)
    if m := _ISO_DATE.fullmatch(text):
        return _ymd(int(m.group(1)), *(int(g) if g else None for g in m.groups()[1:]))
    if m := _COMPACT_DATE.fullmatch(text):
        return _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _DECADE.fullmatch(text):
        decade = int(m.group(1)) * 10
        return ParsedDate(f"{m.group(1)}X", decade, decade + 9)
    if m := _CENTURY.fullmatch(text):
        arabic = m.group(1) or m.group(3) or m.group(5)
        century = int(arabic) if arabic else _roman(m.group(2) or m.group(4))
        if not 1 <= century <= 21:
            return None
        first = (century - 1) * 100
        return ParsedDate(f"{century - 1:02d}XX", first, first + 99)
    if m := _YMD_SEPARATED.fullmatch(text):
        if m.group(3) is None and "/" in text:
            return None  # "2021/22" is a range, handled by the caller
        return _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)
    if m := _THAI_DATE.fullmatch(text):
        year = int(m.group(3))
        if year >= _FIRST_BUDDHIST_YEAR_IN_USE and "ค." not in text:
            year -= _BUDDHIST_OFFSET
        return _ymd(year, _THAI_MONTHS[m.group(2)], int(m.group(1)) if m.group(1) else None)
    if m := _SLASHED.fullmatch(text):
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if a > 12 and b <= 12:
            return _ymd(year, b, a)
        if b > 12 and a <= 12:
            return _ymd(year, a, b)
        if a <= 12 and b <= 12:
            return _ymd(year)  # day/month order unknown: the year is all we know
        return None
    if m := _ERA_DATE.fullmatch(text):
        era, number = m.group(1), m.group(2)
        offset = _MINGUO_OFFSET if era in ("民國", "民国") else _JAPANESE_ERAS[era] - 1
        year = offset + (1 if number == "元" else int(number))
        return _ymd(year, *(int(g) if g else None for g in m.groups()[2:]))
    if m := _CJK_DATE.fullmatch(text):
        return _ymd(int(m.group(1)), *(int(g) if g else None for g in m.groups()[1:]))
    if m := _VIETNAMESE_DATE.fullmatch(text):
        day, month, year = (int(g) if g else None for g in m.groups())
        if day is not None and month is None:
            return None
        return _ymd(year, month, day)  # type: ignore[arg-type]
    if m := _BUDDHIST.fullmatch(text):
        return _ymd(int(m.group(1)) - _BUDDHIST_OFFSET)
    if m := _RFC2822.fullmatch(text):
        day, month_name, year, hour, minute = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
        month = _MONTHS.get(month_name.lower())
        if month is None or not _day_ok(int(year), month, int(day)) or int(hour) > 23 or int(minute) > 59:
            return None
        zone = m.group(7) or ""
        if zone.upper() in ("GMT", "UTC", "UT", "Z"):
            zone = "Z"
        elif zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        second = m.group(6) or "00"
        edtf = f"{int(year):04d}-{month:02d}-{int(day):02d}T{hour}:{minute}:{second}{zone}"
        return ParsedDate(edtf, int(year), int(year))
    if m := _ENGLISH_DMY.fullmatch(text):
        month = _MONTHS.get(m.group(2).lower())
        return _ymd(int(m.group(3)), month, int(m.group(1))) if month else None
    if m := _ENGLISH_MDY.fullmatch(text):
        month = _MONTHS.get(m.group(1).lower())
        return _ymd(int(m.group(3)), month, int(m.group(2))) if month else None
    if m := _ENGLISH_MY.fullmatch(text):
        month = _MONTHS.get(m.group(1).lower())
        if month:
            return _ymd(int(m.group(2)), month)
        season = _SEASONS.get(m.group(1).lower())
        if season:
            year = int(m.group(2))
            return ParsedDate(f"{year:04d}-{season}", year, year)
        return None
    if m := _SEASON_YEAR.fullmatch(text):
        name = (m.group(1) or m.group(4) or "").strip().lower()
        year_text = m.group(2) or m.group(3)
        season = _SEASONS.get(name)
        if season and year_text:
            year = int(year_text)
            return ParsedDate(f"{year:04d}-{season}", year, year)
    return None


def _qualified(text: str) -> ParsedDate | None:
    """A single date with an optional circa/uncertainty qualifier."""
    text = text.strip()
    qualifier = ""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1].strip()  # cataloguers' brackets: supplied, not transcribed
    if text.endswith("?"):
        qualifier = "?"
        text = text[:-1].rstrip()
    stripped = _APPROX_PREFIX.sub("", text)
    stripped = _APPROX_SUFFIX.sub("", stripped)
    if stripped != text:
        qualifier = "%" if qualifier == "?" else "~"
        text = stripped
    if text.endswith("~"):
        qualifier = "%" if qualifier == "?" else "~"
        text = text[:-1]
    if text.endswith("%"):
        qualifier = "%"
        text = text[:-1]
    text = _PART_OF.sub("", text)
    if (m := _AFTER.fullmatch(text)) or (m := _BEFORE.fullmatch(text)):
        inner = _single(m.group(1) or m.group(2))
        # "after the 19th century" is not "from 1800 on": only plain dates open a range.
        if inner is None or "T" in inner.edtf or "X" in inner.edtf or _is_season(inner.edtf):
            return None
        mark = qualifier
        if m.re is _AFTER:
            return ParsedDate(f"{inner.edtf}{mark}/..", inner.start_year, None, bool(qualifier))
        return ParsedDate(f"../{inner.edtf}{mark}", None, inner.end_year, bool(qualifier))
    parsed = _single(text)
    if parsed is None or not qualifier:
        return parsed
    if "T" in parsed.edtf or "X" in parsed.edtf:
        return ParsedDate(parsed.edtf, parsed.start_year, parsed.end_year, approximate=True)
    return ParsedDate(parsed.edtf + qualifier, parsed.start_year, parsed.end_year, approximate=True)


def _interval(text: str) -> ParsedDate | None:
    if m := _SHORT_RANGE.fullmatch(text):
        # "1990-95": a month can never exceed 12, so a larger two-digit tail is a year.
        start = int(m.group(1))
        tail = int(m.group(2))
        if tail > 12 or "/" in text or "–" in text or "—" in text:
            end = start // 100 * 100 + tail
            if end > start:
                return ParsedDate(f"{start}/{end}", start, end)
        return None
    if m := _FROM_TO.fullmatch(text):
        text = f"{m.group(1)}/{m.group(2)}"
    # Try every separator: "2021-11/2021-12" must split at the slash, not the first hyphen.
    for m in _RANGE_SEPARATOR.finditer(text):
        if m.start() == 0 or m.end() == len(text):
            continue
        first, second = _qualified(text[: m.start()]), _qualified(text[m.end() :])
        if first is None or second is None or "T" in first.edtf + second.edtf:
            continue
        if "/" in first.edtf or "/" in second.edtf:
            continue
        if first.start_year > second.end_year:  # type: ignore[operator]
            return None
        return ParsedDate(
            f"{first.edtf}/{second.edtf}",
            first.start_year,
            second.end_year,
            approximate=first.approximate or second.approximate,
        )
    return None


@functools.lru_cache(maxsize=16384)
def parse_date(s: str) -> ParsedDate | None:
    """Understand a date written by a cataloguer; None if not understood."""
    if s.isascii():
        text = " ".join(s.split())
        # Most dates harvested are already ISO 8601 ("2021", "2021-11-15", "...T10:00:00Z").
        if (m := _ISO_DATE.fullmatch(text)) and (
            parsed := _ymd(int(m.group(1)), *(int(g) if g else None for g in m.groups()[1:]))
        ):
            return parsed
    else:
        text = " ".join(_ascii_digits(unicodedata.normalize("NFKC", s)).split())
    # "1922–1972, undated": the undated part adds nothing; "1927;": ISBD punctuation.
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > 1 and any(p.lower() in _UNDATED for p in parts):
        text = ", ".join(p for p in parts if p.lower() not in _UNDATED)
    text = re.sub(r"(?<=[\d\]?])\s*[.,;:]+$", "", text)
    # "1925 1925", "ca. 1973 ca. 1973": the same date given twice (MARC 260/264 duplicates).
    words = text.split()
    half = len(words) // 2
    if half and len(words) % 2 == 0 and words[:half] == words[half:]:
        text = " ".join(words[:half])
    if not text:
        return None
    return _qualified(text) or _interval(text)
