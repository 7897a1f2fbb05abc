"""Settings for Raumbörse: kept at the top of the checkout for scripts and tests that import
``config``; the settings themselves live in ``booking.config`` so a built wheel carries them."""

from booking.config import DEVELOPMENT_SECRET_KEY, Config, normalise_database_url

__all__ = ["DEVELOPMENT_SECRET_KEY", "Config", "normalise_database_url"]
