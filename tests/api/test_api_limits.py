"""Rate limits: per token when one is sent, else per client address; 429 with Retry-After."""

from __future__ import annotations

import socket

import pytest

from booking import create_app
from booking.extensions import limiter
from tests.api.conftest import assert_problem


def _limited_app(app, database_url, storage: str):
    limited = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_API": "3 per minute",
            "RATELIMIT_KEY_PREFIX": f"rb-test-{id(app)}",
        }
    )
    return limited


@pytest.fixture
def limited(app, database_url, db):
    """An app with the API limited to 3 requests a minute (the limiter is a global object)."""
    apps = []

    def make(storage: str = "memory://"):
        limited = _limited_app(app, database_url, storage)
        limiter.reset()
        apps.append(limited)
        return limited

    yield make
    limiter.reset()
    for made in apps:
        with made.app_context():
            from booking.extensions import db as _db

            _db.engine.dispose()
    limiter.init_app(app)  # back to the session app's settings (disabled)
    assert not limiter.enabled


def _exercise(limited_app, headers_a, headers_b):
    client = limited_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/sites").status_code == 200
    blocked = client.get("/api/v1/sites")
    body = assert_problem(blocked, 429)
    assert body["code"] == "too_many_requests"
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.headers["X-RateLimit-Limit"] == "3"
    # Another endpoint shares the same API budget.
    assert client.get("/api/v1/organisations").status_code == 429
    # A token has its own budget, separate from the address's and from other tokens'.
    for _ in range(3):
        assert client.get("/api/v1/sites", headers=headers_a).status_code == 200
    assert client.get("/api/v1/sites", headers=headers_a).status_code == 429
    assert client.get("/api/v1/sites", headers=headers_b).status_code == 200
    # Made-up tokens do not buy a fresh budget: they count against the address (already spent).
    made_up = {"Authorization": "Bearer rb_made-up"}
    assert client.get("/api/v1/sites", headers=made_up).status_code == 429


def test_rate_limit_in_memory(limited, make_user, auth, db):
    headers_a, headers_b = auth(make_user()), auth(make_user())
    _exercise(limited(), headers_a, headers_b)


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="Redis is not reachable on 127.0.0.1:6379")
def test_rate_limit_in_redis(limited, make_user, auth, db):
    import redis

    headers_a, headers_b = auth(make_user()), auth(make_user())
    _exercise(limited("redis://127.0.0.1:6379/15"), headers_a, headers_b)
    keys = redis.Redis.from_url("redis://127.0.0.1:6379/15").keys("*")
    assert any(b"rb-test-" in key for key in keys)
    assert not any(b"rb_" in key for key in keys)  # tokens are hashed, never stored in clear
