"""``RATELIMIT_DEFAULT`` (README, Configuration): a limit for every endpoint that has none of
its own, counted per client address."""

from __future__ import annotations

import pytest

from booking import create_app
from booking.extensions import limiter


@pytest.fixture
def limited_app(app, database_url, db):
    """A second app with limits on, kept in memory, and a low default limit."""
    saved_prefix, limiter._key_prefix = limiter._key_prefix, ""
    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_DEFAULT": "3 per minute",
            "SERVER_NAME": "raumboerse.test",
        }
    )
    yield limited
    limiter.reset()
    with limited.app_context():
        from booking.extensions import db as _db

        _db.engine.dispose()
    limiter._key_prefix = saved_prefix
    limiter.init_app(app)  # back to the session app's settings (disabled)
    assert not limiter.enabled


def _get(client, path: str, addr: str):
    return client.get(path, environ_base={"REMOTE_ADDR": addr, "HTTP_ACCEPT_LANGUAGE": "en"})


def test_the_default_limit_answers_429_on_an_ordinary_page(limited_app, make_room, db):
    room = make_room()
    db.session.commit()
    client = limited_app.test_client()
    for _ in range(3):
        assert _get(client, f"/rooms/{room.id}", "198.51.100.1").status_code == 200
    refused = _get(client, f"/rooms/{room.id}", "198.51.100.1")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    # Counted per client address: another one still gets the page.
    assert _get(client, f"/rooms/{room.id}", "198.51.100.2").status_code == 200
    # And per endpoint ("for every endpoint"): the same address may still open another page.
    assert _get(client, "/", "198.51.100.1").status_code == 200
