"""Stateless, signed resumption tokens.

The whole harvest position travels in the token, so a provider keeps no
session table: tokens survive restarts, work across several processes behind a
load balancer, and cannot leak memory.  The HMAC stops a harvester (or a typo)
from steering the provider into arbitrary queries; the issue time bounds the
token's life, which the provider announces in ``expirationDate`` (spec 3.5).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

TOKEN_LIFETIME = timedelta(hours=24)
_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class InvalidToken(ValueError):
    """The token is malformed, forged, or expired; the protocol answers badResumptionToken."""


@dataclass(frozen=True)
class TokenState:
    """Where a list request stands; everything needed to produce the next page."""

    verb: str
    prefix: str
    set_spec: str | None
    from_: datetime | None
    until: datetime | None
    last: tuple[datetime, str]
    cursor: int
    complete_list_size: int | None
    issued_at: datetime


def _micros(value: datetime | None) -> int | None:
    if value is None:
        return None
    delta = value.astimezone(timezone.utc) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidToken("bad timestamp in token")
    return _EPOCH + timedelta(microseconds=value)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def encode_token(state: TokenState, secret: bytes) -> str:
    """URL-safe text (base64url alphabet and one dot), so no harvester needs to escape it."""
    body = [_VERSION, state.verb, state.prefix, state.set_spec, _micros(state.from_),
            _micros(state.until), _micros(state.last[0]), state.last[1], state.cursor,
            state.complete_list_size, _micros(state.issued_at)]
    payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return f"{payload}.{_signature(secret, payload)}"


def decode_token(token: str, secret: bytes, *, now: datetime,
                 lifetime: timedelta = TOKEN_LIFETIME) -> TokenState:
    """Verify and unpack a token; raises :class:`InvalidToken` for anything but a genuine, live one."""
    payload, dot, signature = token.partition(".")
    if not dot or not payload or not signature:
        raise InvalidToken("not a token issued by this repository")
    try:
        expected = _signature(secret, payload)
    except UnicodeEncodeError as exc:
        raise InvalidToken("not a token issued by this repository") from exc
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        raise InvalidToken("resumptionToken signature does not match")
    try:
        body = json.loads(_unb64(payload).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidToken("resumptionToken is corrupt") from exc
    if not isinstance(body, list) or len(body) != 11 or body[0] != _VERSION:
        raise InvalidToken("resumptionToken from an incompatible provider version")
    (_, verb, prefix, set_spec, from_, until, last_stamp, last_id, cursor, size, issued) = body
    if not (isinstance(verb, str) and isinstance(prefix, str) and isinstance(last_id, str)
            and (set_spec is None or isinstance(set_spec, str)) and isinstance(cursor, int)
            and (size is None or isinstance(size, int))):
        raise InvalidToken("resumptionToken is corrupt")
    issued_at = _from_micros(issued)
    last_datestamp = _from_micros(last_stamp)
    if issued_at is None or last_datestamp is None:
        raise InvalidToken("resumptionToken is corrupt")
    if now >= issued_at + lifetime:
        raise InvalidToken("resumptionToken has expired")
    return TokenState(verb=verb, prefix=prefix, set_spec=set_spec, from_=_from_micros(from_),
                      until=_from_micros(until), last=(last_datestamp, last_id), cursor=cursor,
                      complete_list_size=size, issued_at=issued_at)

