"""One retry policy for every request: retry what ``exc.retryable`` says, honour Retry-After.

Partners' repositories run on small servers; hammering a 503 makes things worse, and a
month-long harvest must not die of one reset connection.  Waits grow exponentially with
jitter and are capped, and a server's Retry-After (seconds or an HTTP date) is obeyed up
to the same cap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 5
    base_s: float = 0.5
    max_backoff_s: float = 300.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt number ``attempt + 1`` (attempt counts from 0)."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_backoff_s))
        backoff = self.base_s * (2 ** attempt)
        return min(backoff * (0.5 + random.random() / 2), self.max_backoff_s)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (RFC 9110 10.2.3: delay-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())
