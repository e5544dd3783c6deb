"""Signed stateless resumption tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.provider import TOKEN_LIFETIME, InvalidToken, TokenState, decode_token, encode_token

UTC = timezone.utc
SECRET = b"token-test-secret"
ISSUED = datetime(2025, 1, 1, 8, 0, 0, 250000, tzinfo=UTC)


def state(**changes: object) -> TokenState:
    fields: dict[str, object] = dict(
        verb="ListRecords", prefix="oai_dc", set_spec="ich:공연예술", from_=datetime(2024, 1, 1, tzinfo=UTC),
        until=datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        last=(datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC), "oai:ichlinks.test:Điệu múa/1"),
        cursor=300, complete_list_size=1234, issued_at=ISSUED)
    fields.update(changes)
    return TokenState(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", [
    {},
    {"set_spec": None, "from_": None, "until": None, "complete_list_size": None},
    {"cursor": 0, "verb": "ListIdentifiers"},
])
def test_round_trip_is_exact(variant: dict[str, object]) -> None:
    original = state(**variant)
    token = encode_token(original, SECRET)
    assert decode_token(token, SECRET, now=ISSUED) == original


def test_tokens_use_only_url_safe_characters() -> None:
    token = encode_token(state(), SECRET)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)


def test_lifetime_is_at_least_a_day() -> None:
    token = encode_token(state(), SECRET)
    assert TOKEN_LIFETIME >= timedelta(hours=24)
    decode_token(token, SECRET, now=ISSUED + TOKEN_LIFETIME - timedelta(microseconds=1))
    with pytest.raises(InvalidToken, match="expired"):
        decode_token(token, SECRET, now=ISSUED + TOKEN_LIFETIME)
    decode_token(token, SECRET, now=ISSUED + timedelta(hours=47), lifetime=timedelta(hours=48))


def test_wrong_secret_and_flipped_bits_are_refused() -> None:
    token = encode_token(state(), SECRET)
    with pytest.raises(InvalidToken):
        decode_token(token, b"other secret", now=ISSUED)
    payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[10] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=") + "." + signature
    with pytest.raises(InvalidToken, match="signature"):
        decode_token(forged, SECRET, now=ISSUED)


def _signed(body: object) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    digest = hmac.new(SECRET, payload.encode(), hashlib.sha256).digest()
    return payload + "." + base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.mark.parametrize("body", [
    {"not": "a list"},
    [2, "ListRecords", "oai_dc", None, None, None, 0, "x", 0, None, 0],   # future version
    [1, "ListRecords", "oai_dc", None, None, None, 0, "x", 0, None],      # short
    [1, "ListRecords", "oai_dc", None, None, None, "soon", "x", 0, None, 0],
    [1, "ListRecords", 7, None, None, None, 0, "x", 0, None, 0],
    [1, "ListRecords", "oai_dc", None, None, None, 0, "x", "0", None, 0],
    [1, "ListRecords", "oai_dc", None, None, None, 0, "x", 0, None, None],
])
def test_validly_signed_but_malformed_bodies_are_refused(body: object) -> None:
    with pytest.raises(InvalidToken):
        decode_token(_signed(body), SECRET, now=ISSUED)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_never_decodes_and_never_crashes(text: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(text, SECRET, now=ISSUED)


@pytest.mark.parametrize("text", ["0.\x80", "a.é", "é.a", "\ud800.x", ".", "a.", ".b"])
def test_non_ascii_or_half_tokens_are_refused_cleanly(text: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(text, SECRET, now=ISSUED)
