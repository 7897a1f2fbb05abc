"""Configuration comes from the environment; production refuses unsafe defaults."""

from __future__ import annotations

import pytest

from booking import create_app
from config import Config, normalise_database_url


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOKING_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "dev-only-not-secret")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_uses_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOKING_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal/raumboerse")
    monkeypatch.setenv("BOOKING_TIMEZONE", "Europe/Vienna")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    config = Config()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u:p@db.internal/raumboerse"
    assert config.BOOKING_TIMEZONE == "Europe/Vienna"
    assert config.RATELIMIT_ENABLED is False


def test_default_database_is_an_sqlite_file_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    uri = Config().SQLALCHEMY_DATABASE_URI
    assert uri.startswith("sqlite:///") and uri.endswith("instance/raumboerse.sqlite3")
    assert normalise_database_url("postgresql://h/db") == "postgresql+psycopg://h/db"


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_given_as_an_override_starts(uri):
    """A script or test that passes an in-memory SQLite URI gets a working app (its engine has
    no pool, so no pool timeout); a file or server database waits DATABASE_POOL_TIMEOUT."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "x"})
    assert "pool_timeout" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    with app.app_context():
        from sqlalchemy import text

        from booking.extensions import db

        assert db.session.execute(text("select 1")).scalar() == 1


def test_a_pooled_database_waits_the_configured_pool_timeout(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "DATABASE_POOL_TIMEOUT": 7,
            "SECRET_KEY": "x",
        }
    )
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_timeout"] == 7
