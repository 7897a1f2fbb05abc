"""JSON API v1 under ``/api/v1``: token-authenticated, described by a generated OpenAPI document.

Importing this package registers the routes on ``bp``. The HTML pages about the API live on the
web side: the docs page in ``booking.web.api_docs``, the token pages of the profile in
``booking.web.accounts.api_tokens``; the token service is ``booking.api.tokens``.
"""

from __future__ import annotations

from flask import Blueprint

from booking.api.auth import api_rate_limit
from booking.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Tokens, not cookies, authenticate the API, so there is nothing for a cross-site request to ride
# on; the session is never consulted here (see auth.py).
csrf.exempt(bp)
api_rate_limit()(bp)

from booking.api import audit, closures, views  # noqa: E402, F401  (register the routes)

__all__ = ["bp"]
