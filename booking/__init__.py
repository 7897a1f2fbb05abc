"""Raumbörse: find, book and subscribe to shared rooms in schools and third places.

Kept free of imports so that ``booking.domain`` can be used without Flask or SQLAlchemy.
"""

from __future__ import annotations

from typing import Any


def create_app(config: dict[str, Any] | None = None):
    """Build the Flask application (see ``booking.app.create_app``)."""
    from booking.app import create_app as _create_app

    return _create_app(config)
