"""Feed tests: a pinned feed clock (see ``feeds.readers`` for the iCalendar readers) and an
empty body cache."""

from __future__ import annotations

import pytest

from feeds.readers import FEED_NOW


@pytest.fixture(autouse=True)
def feed_clock(monkeypatch):
    from booking.feeds import service

    monkeypatch.setattr(service, "clock", lambda: FEED_NOW)
    return FEED_NOW


@pytest.fixture
def client(client):
    """The test client, with no rendered feed body kept from an earlier test.

    Each test starts from an empty database whose ids and commit seconds can repeat an earlier
    test's; an ETag describes one database's history and cannot tell the two apart.
    """
    from booking.feeds import cache

    cache.clear()
    return client
