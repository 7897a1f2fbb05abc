"""WSGI entry point in a checkout: ``gunicorn wsgi:app``; an installed wheel has
``gunicorn booking.wsgi:app``, which this re-exports (``gc.freeze()`` included)."""

from booking.wsgi import app

__all__ = ["app"]
