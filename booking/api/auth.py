"""Bearer-token authentication for the API, and its rate limit per token. The session cookie is
never looked at: a browser's login must not authorise cross-site writes, and without cookies CSRF
has nothing to attack."""

from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address

from booking.api import tokens
from booking.extensions import limiter
from booking.models import User


class AuthError(Exception):
    """401: no usable credentials. ``error`` is the RFC 6750 error code, if any."""

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error = error


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header; raises AuthError on another scheme."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError("Use 'Authorization: Bearer <token>'.", "invalid_request")
    return value.strip()


def api_user(*, required: bool) -> User | None:
    """The user of the request's token; None for an anonymous caller (called once per request)."""
    plain = bearer_token()
    user = None
    if plain is not None:
        token = tokens.authenticate(plain)
        if token is None:
            raise AuthError("The token is invalid or has been revoked.", "invalid_token")
        user = token.user
    if required and user is None:
        raise AuthError("This needs an API token: 'Authorization: Bearer <token>'.")
    return user


def rate_limit_key() -> str:
    """Per token for a known, active token, else per client address.

    Unknown tokens count against the address: otherwise a client could get a fresh budget for
    every made-up token. The key holds the token's hash, never the token (keys may sit in Redis).
    """
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        digest = tokens.hash_token(header[7:].strip())
        if tokens.is_active_hash(digest):
            return "token:" + digest
    return "ip:" + (get_remote_address() or "unknown")


def api_limit() -> str:
    return current_app.config.get("RATELIMIT_API") or "300 per minute"


def api_rate_limit():
    """The decorator of the API's rate limit: one budget per token or address for everything
    under ``/api/v1``, the API blueprint and the docs page that the web blueprint serves there."""
    return limiter.shared_limit(api_limit, scope="api", key_func=rate_limit_key)
