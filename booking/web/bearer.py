"""The check of a shared secret sent as `Authorization: Bearer TOKEN` (Notify's callbacks,
the metrics' scraper): one way, so that neither is weaker than the other."""

from __future__ import annotations

import hashlib
import hmac

from flask import request


def bearer_matches(expected: str | None) -> bool:
    """Whether this request carries `expected` as its bearer token; never, without one set."""
    if not expected:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Digests of equal length, compared in constant time: the answer's timing tells nothing
    # of the token, its length included.
    return hmac.compare_digest(
        hashlib.sha256(given.strip().encode()).digest(),
        hashlib.sha256(expected.encode()).digest(),
    )
