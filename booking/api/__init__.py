"""JSON API v1 under ``/api/v1``: token-authenticated, described by a generated OpenAPI document.

Importing this package registers the routes on ``bp``; ``tokens_bp`` holds the profile-page
routes for creating and revoking tokens (HTML forms with CSRF, session login).
"""

from __future__ import annotations

from flask import Blueprint, current_app

from booking.api.auth import rate_limit_key
from booking.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Tokens, not cookies, authenticate the API, so there is nothing for a cross-site request to ride
# on; the session is never consulted here (see auth.py).
csrf.exempt(bp)


def _api_limit() -> str:
    return current_app.config.get("RATELIMIT_API") or "300 per minute"


limiter.shared_limit(_api_limit, scope="api", key_func=rate_limit_key)(bp)

from booking.api import views  # noqa: E402, F401  (registers the routes)
from booking.api.web import tokens_bp  # noqa: E402

__all__ = ["bp", "tokens_bp"]
