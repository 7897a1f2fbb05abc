"""Feed tests: a pinned feed clock (see ``feeds.readers`` for the iCalendar readers)."""

from __future__ import annotations

import pytest

from feeds.readers import FEED_NOW


@pytest.fixture(autouse=True)
def feed_clock(monkeypatch):
    from booking.feeds import service

    monkeypatch.setattr(service, "clock", lambda: FEED_NOW)
    return FEED_NOW
