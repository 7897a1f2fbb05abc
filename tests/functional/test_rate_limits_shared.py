"""Rate limits that hold across worker processes (Redis), keyed by account and by client address,
on log-in, registration and password-reset requests; ProxyFix; the warning about memory://.

Design (documented in the README): a log-in counts against the client address (every attempt)
and against the account tried (failed attempts only, from any address). Someone guessing from
one address is stopped by the address limit long before the account limit, so the rightful user
can still log in from their own address; only many addresses together can use up the account
limit, and only for its short window.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import uuid

import pytest

from booking import create_app
from booking.extensions import limiter
from tests.conftest import PASSWORD

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not _redis_reachable(), reason="Redis is not reachable on 127.0.0.1:6379"
)


@pytest.fixture
def workers(app, database_url, db):
    """Builds app instances ("workers") with limits on, in Redis under a prefix of this run."""
    prefix = f"rb-rl-test-{uuid.uuid4().hex}"
    made = []
    # The limiter is one object per process and keeps the first key prefix it was given.
    saved_prefix, limiter._key_prefix = limiter._key_prefix, ""

    def make(storage: str = REDIS_URL, **config):
        settings = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_KEY_PREFIX": prefix,
            "RATELIMIT_LOGIN": "4 per minute",
            "RATELIMIT_LOGIN_ACCOUNT": "6 per minute",
            "RATELIMIT_REGISTER": "2 per hour",
            "RATELIMIT_RESET": "5 per hour",
            "RATELIMIT_RESET_ACCOUNT": "2 per hour",
            "SERVER_NAME": "raumboerse.test",
        }
        settings.update(config)
        worker = create_app(settings)
        made.append(worker)
        return worker

    yield make
    if _redis_reachable():
        import redis

        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(f"{prefix}*"):
            connection.delete(key)
    limiter.reset()
    for worker in made:
        with worker.app_context():
            from booking.extensions import db as _db

            _db.engine.dispose()
    limiter._key_prefix = saved_prefix
    limiter.init_app(app)  # back to the session app's settings (disabled)
    assert not limiter.enabled


def _login(client, email, password="wrong password!", addr="10.0.0.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": addr, "HTTP_ACCEPT_LANGUAGE": "en"},
    )


@needs_redis
def test_two_workers_count_login_attempts_together(workers, make_user, db):
    make_user(email="anna@example.org")
    db.session.commit()
    first, second = workers(), workers()
    a, b = first.test_client(), second.test_client()
    # Four attempts from one address, split across both workers, use up "4 per minute".
    for client in (a, b, a, b):
        assert _login(client, "anna@example.org").status_code == 422
    for client in (a, b):
        blocked = _login(client, "anna@example.org")
        assert blocked.status_code == 429
        assert "Too many attempts" in blocked.get_data(as_text=True)
        assert int(blocked.headers["Retry-After"]) > 0
    # The counts live in Redis, under this run's prefix, where every worker process sees them.
    import redis

    keys = redis.Redis.from_url(REDIS_URL).keys("*")
    assert any(first.config["RATELIMIT_KEY_PREFIX"].encode() in key for key in keys)
    assert any(b"account:" in key for key in keys)  # the per-account count
    assert not any(b"anna@example.org" in key for key in keys)  # hashed, not in clear


_OTHER_WORKER = """
import json, sys
from booking import create_app
config = json.loads(sys.argv[1])
client = create_app(config).test_client()
for _ in range(2):
    response = client.post(
        "/login",
        data={"email": "anna@example.org", "password": "wrong password!"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    print(response.status_code)
"""


@needs_redis
def test_a_worker_in_another_process_shares_the_login_limit(workers, make_user, db):
    make_user(email="anna@example.org")
    db.session.commit()
    here = workers()
    config = {
        key: here.config[key]
        for key in (
            "TESTING",
            "SQLALCHEMY_DATABASE_URI",
            "SECRET_KEY",
            "WTF_CSRF_ENABLED",
            "RATELIMIT_ENABLED",
            "RATELIMIT_STORAGE_URI",
            "RATELIMIT_KEY_PREFIX",
            "RATELIMIT_LOGIN",
            "RATELIMIT_LOGIN_ACCOUNT",
            "SERVER_NAME",
        )
    }
    client = here.test_client()
    for _ in range(2):
        assert _login(client, "anna@example.org").status_code == 422
    other = subprocess.run(
        [sys.executable, "-c", _OTHER_WORKER, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert other.stdout.split() == ["422", "422"]  # the other process's two attempts
    assert _login(client, "anna@example.org").status_code == 429  # 2 + 2 of "4 per minute"


@needs_redis
def test_guessing_from_one_address_does_not_lock_out_the_user(workers, make_user, db):
    make_user(email="anna@example.org")
    db.session.commit()
    worker = workers()
    attacker, anna = worker.test_client(), worker.test_client()
    for _ in range(4):
        _login(attacker, "Anna@Example.org ", addr="10.6.6.6")  # normalised: the same account
    assert _login(attacker, "anna@example.org", addr="10.6.6.6").status_code == 429
    # Anna, from her own address, still gets in with her password.
    response = _login(anna, "anna@example.org", PASSWORD, addr="10.1.1.1")
    assert response.status_code == 302


@needs_redis
def test_failed_logins_from_many_addresses_hit_the_account_limit(workers, make_user, db):
    make_user(email="anna@example.org")
    db.session.commit()
    client = workers().test_client()
    for n in range(6):  # six failures, each from a fresh address: the account limit is 6
        assert _login(client, "anna@example.org", addr=f"10.0.1.{n}").status_code == 422
    assert _login(client, "anna@example.org", addr="10.0.1.99").status_code == 429
    # Another account is not affected from the same fresh address.
    assert _login(client, "bert@example.org", addr="10.0.1.99").status_code == 422


@needs_redis
def test_successful_logins_do_not_use_up_the_account_limit(workers, make_user, db):
    make_user(email="anna@example.org")
    db.session.commit()
    worker = workers(RATELIMIT_LOGIN="100 per minute")
    for _ in range(8):  # more than the account limit of 6, each a success
        client = worker.test_client()
        assert _login(client, "anna@example.org", PASSWORD, addr="10.2.0.1").status_code == 302


@needs_redis
def test_register_is_limited_per_address(workers, db):
    first, second = workers(), workers()
    for n, worker in enumerate((first, second)):
        response = worker.test_client().post(
            "/register",
            data={
                "email": f"new{n}@example.org",
                "name": f"New {n}",
                "password": "violet tractor nimbus 4821",
                "confirm": "violet tractor nimbus 4821",
                "language": "de",
            },
            environ_base={"REMOTE_ADDR": "10.3.0.1", "HTTP_ACCEPT_LANGUAGE": "en"},
        )
        assert response.status_code == 303, response.get_data(as_text=True)
    blocked = first.test_client().post(
        "/register",
        data={
            "email": "new9@example.org",
            "name": "New 9",
            "password": "violet tractor nimbus 4822",
            "confirm": "violet tractor nimbus 4822",
            "language": "de",
        },
        environ_base={"REMOTE_ADDR": "10.3.0.1", "HTTP_ACCEPT_LANGUAGE": "en"},
    )
    assert blocked.status_code == 429
    assert "too many requests" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    # Another address may still register.
    other = second.test_client().get(
        "/register", environ_base={"REMOTE_ADDR": "10.3.0.2", "HTTP_ACCEPT_LANGUAGE": "en"}
    )
    assert other.status_code == 200


@needs_redis
def test_register_form_errors_do_not_use_up_the_limit(workers, db):
    client = workers().test_client()
    for _ in range(4):  # more than "2 per hour": each sent back with a message
        response = client.post("/register", data={"email": "", "name": "", "password": ""})
        assert response.status_code == 422


@needs_redis
def test_password_reset_is_limited_per_target_address_and_per_client(workers, make_user, db):
    make_user(email="anna@example.org")
    db.session.commit()
    first, second = workers(), workers()

    def ask(worker, email, addr):
        return worker.test_client().post(
            "/password-reset",
            data={"email": email},
            environ_base={"REMOTE_ADDR": addr, "HTTP_ACCEPT_LANGUAGE": "en"},
        )

    # Per target address: 2 an hour, from any client and worker.
    assert ask(first, "anna@example.org", "10.4.0.1").status_code == 200
    assert ask(second, "ANNA@example.org", "10.4.0.2").status_code == 200
    blocked = ask(first, "anna@example.org", "10.4.0.3")
    assert blocked.status_code == 429
    assert "too many requests" in blocked.get_data(as_text=True)
    # Per client: 5 an hour, whatever addresses it asks for.
    for n in range(5):
        assert ask(second, f"other{n}@example.org", "10.4.1.1").status_code == 200
    assert ask(first, "someone@example.org", "10.4.1.1").status_code == 429


@needs_redis
@pytest.mark.parametrize(("hops", "separate"), [(1, True), (0, False)])
def test_proxy_hops_decide_whose_address_counts(workers, make_user, db, hops, separate):
    worker = workers(PROXY_HOPS=hops)
    client = worker.test_client()

    def attempt(forwarded):
        return client.post(
            "/login",
            data={"email": f"{forwarded}@example.org", "password": "wrong password!"},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "192.0.2.1", "HTTP_ACCEPT_LANGUAGE": "en"},  # the proxy
        )

    for _ in range(4):
        assert attempt("203.0.113.7").status_code == 422
    assert attempt("203.0.113.7").status_code == 429
    # Another client behind the same proxy: its own budget only when the proxy is trusted.
    assert attempt("203.0.113.8").status_code == (422 if separate else 429)


def test_production_with_memory_storage_warns(workers, caplog):
    with caplog.at_level(logging.WARNING, logger="booking.limits"):
        workers("memory://", ENV="production")
    warnings = [r for r in caplog.records if "RATELIMIT_STORAGE_URI" in r.getMessage()]
    assert len(warnings) == 1


@needs_redis
def test_redis_storage_or_test_app_does_not_warn(workers, caplog):
    with caplog.at_level(logging.WARNING, logger="booking.limits"):
        workers(REDIS_URL, ENV="production")
        workers("memory://")
    assert not [r for r in caplog.records if "RATELIMIT_STORAGE_URI" in r.getMessage()]
