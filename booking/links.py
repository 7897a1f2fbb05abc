"""Absolute links for mails, feeds and the API: one answer to "where does this site live?"."""

from __future__ import annotations

from flask import current_app, has_request_context, request


def base_url() -> str:
    """``BOOKING_BASE_URL``, else this request's host (``http://localhost`` outside one)."""
    base = current_app.config.get("BOOKING_BASE_URL") or ""
    if not base and has_request_context():
        base = request.host_url
    return (base or "http://localhost").rstrip("/")
