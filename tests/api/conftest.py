"""Fixtures for the JSON API tests: tokens, auth headers and times relative to today."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.api.tokens import create_token

BERLIN = ZoneInfo("Europe/Berlin")


def local(days: int, hour: int, minute: int = 0) -> datetime:
    """A naive local (Berlin) wall time ``days`` from today: the API's 'no offset' input."""
    return datetime.combine(date.today() + timedelta(days=days), time(hour, minute))


def iso(value: datetime) -> str:
    return value.isoformat(timespec="minutes")


@pytest.fixture
def token_for(db):
    """``token_for(user)`` -> a fresh plain API token for the user (committed)."""

    def make(user, name: str = "test") -> str:
        _token, plain = create_token(user, name)
        db.session.commit()
        return plain

    return make


@pytest.fixture
def auth(token_for):
    """``auth(user)`` -> headers carrying a new bearer token of the user."""

    def make(user) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user)}"}

    return make


def assert_problem(response, status: int, code: str | None = None, field: str | None = None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code
    if field is not None:
        assert body["field"] == field
        assert field in [e["field"] for e in body["errors"]]
    return body
