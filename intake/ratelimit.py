"""Rate-limit keys that never store an address: a keyed hash that changes every day."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request

from intake import clock


def client_key() -> str:
    """Today's keyed hash of the client address (nothing reversible is kept)."""
    day = clock.now().strftime("%Y-%m-%d").encode()
    secret = str(current_app.config["SECRET_KEY"]).encode()
    address = (request.remote_addr or "unknown").encode()
    return hmac.new(secret + day, address, hashlib.sha256).hexdigest()[:24]
