"""The key that signs the aggregate's OAI-PMH resumption tokens.

Tokens must stay valid for 24 hours, across restarts and across several service
processes, so the key can never be random per process: it is ``service.token_secret``
when configured, else derived from a random value persisted once in the store
(migration 0002 seeds it; a store that lost the row gets a new one, race-safe).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from harvester.store.checkpoints import utcnow
from harvester.store.models import ServiceKey

KEY_NAME = "oai-resumption-token"
_PURPOSE = b"ichlinks/oai-pmh/resumption-token/v1\x00"


def _derive(material: str) -> bytes:
    # Bound to its purpose, so the same configured secret used elsewhere yields another key.
    return hashlib.sha256(_PURPOSE + material.encode("utf-8")).digest()


def stored_key_value(engine: Engine) -> str:
    """The persisted random value, created if the store has none."""
    with Session(engine) as session:
        row = session.get(ServiceKey, KEY_NAME)
        if row is not None:
            return row.value
    try:
        with Session(engine) as session, session.begin():
            session.add(ServiceKey(name=KEY_NAME, value=secrets.token_hex(32), created_at=utcnow()))
    except IntegrityError:
        pass  # another process created it first: use theirs
    with Session(engine) as session:
        row = session.get(ServiceKey, KEY_NAME)
        if row is None:  # pragma: no cover - the row was just written
            raise RuntimeError("the OAI-PMH token key could not be stored")
        return row.value


def token_key(configured: str | None, engine: Engine) -> bytes:
    """The HMAC key for resumption tokens: from the configuration, else from the store."""
    if configured:
        return _derive(configured)
    return _derive(stored_key_value(engine))
