"""The booking preview says, per date, how many other requests wait for that time, without
names, and its summary never calls the dates simply free when others wait for them (#12)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from booking.models import ApprovalPolicy, OccurrenceStatus

BERLIN = ZoneInfo("Europe/Berlin")


def next_monday(weeks_ahead: int = 2) -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 7 * (weeks_ahead - 1))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def form_data(first: date, **overrides) -> dict:
    data = {
        "date": first.isoformat(),
        "start": "18:00",
        "end": "20:00",
        "title": "Chorprobe",
        "attendees": "12",
        "organisation": "",
        "repeat": "weekly",
        "limit": "count",
        "count": "4",
        "house_rules_accepted": "y",
        "preview": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def rows(html: str) -> list[str]:
    body = html.split('id="preview-title"', 1)[1].split("</table>", 1)[0]
    return [
        re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip()
        for row in re.findall(r"<tr class=\"(?:free|blocked)\"[^>]*>(.*?)</tr>", body, re.S)
    ]


def summary(html: str) -> str:
    found = re.search(r'<p class="preview-summary">(.*?)</p>', html, re.S)
    assert found
    return re.sub(r"\s+", " ", unescape(found.group(1))).strip()


@pytest.fixture
def requester(make_user, login_as):
    return login_as(make_user(language="en", name="Rita Requester"))


@pytest.fixture
def hall(make_site, make_room):
    """A hall in two halves, whose bookings wait for a manager's approval."""
    site = make_site(name="Turnhalle Nord")
    whole = make_room(site, name="Halle", approval_policy=ApprovalPolicy.MANUAL)
    left = make_room(site, name="Halle links", parent=whole, approval_policy=ApprovalPolicy.MANUAL)
    right = make_room(
        site, name="Halle rechts", parent=whole, approval_policy=ApprovalPolicy.MANUAL
    )
    return whole, left, right


def test_waiting_requests_are_counted_per_date_without_names(
    client, db, requester, hall, make_user, make_organisation, make_booking
):
    whole, left, right = hall
    first = next_monday()
    club = make_organisation(name="Geheimer Kegelclub")
    rival = make_user(name="Konrad Konkurrent", organisations=[club])
    other = make_user(name="Olga Other")
    # Week 1: two other requests for the same room, overlapping in time.
    for who, hour in ((rival, 17), (other, 19)):
        booking = make_booking(
            who, left, local(first + timedelta(weeks=1), hour), 90, title="Kegeln geheim"
        )
        assert booking.occurrences[0].status is OccurrenceStatus.PENDING
    # Week 2: one for the whole hall (shares the part), one for the other half (does not).
    make_booking(other, whole, local(first + timedelta(weeks=2), 18), 120, organisation_id=None)
    make_booking(rival, right, local(first + timedelta(weeks=2), 18), 120)
    # Week 3: one that ends when this one begins (no overlap), one of the requester's own.
    make_booking(rival, left, local(first + timedelta(weeks=3), 16), 120)
    make_booking(requester, left, local(first + timedelta(weeks=3), 19), 60)

    response = client.post(f"/rooms/{left.id}/book", data=form_data(first))
    html = response.text
    assert response.status_code == 200
    found = rows(html)
    assert len(found) == 4
    assert "waiting" not in found[0]
    assert "2 other requests are waiting for this time" in found[1]
    assert "1 other request is waiting for this time" in found[2]
    assert "waiting" not in found[3]
    # Not "all 4 dates are free" without the waiting requests.
    text = summary(html)
    assert "All 4 dates are free, but for 2 of them other requests are waiting" in text
    for secret in ("Konrad", "Olga", "Kegel", "Geheim"):
        assert secret not in html


def test_waiting_requests_beside_blocked_dates_and_approved_ones_do_not_count(
    client, db, requester, hall, make_user, make_booking
):
    _whole, left, _right = hall
    first = next_monday()
    admin = make_user(is_admin=True)
    make_booking(admin, left, local(first, 18), 60)  # approved: the date is taken
    make_booking(make_user(), left, local(first + timedelta(weeks=2), 18, 30), 30)
    html = client.post(f"/rooms/{left.id}/book", data=form_data(first)).text
    found = rows(html)
    assert "Already booked at this time" in found[0] and "waiting" not in found[0]
    assert "1 other request is waiting for this time" in found[2]
    assert "For 1 free date other requests are waiting too" in summary(html)


def test_nothing_waiting_says_simply_free(client, db, requester, hall):
    _whole, left, _right = hall
    html = client.post(f"/rooms/{left.id}/book", data=form_data(next_monday())).text
    assert summary(html).startswith("All 4 dates are free.")
    assert "waiting for this time" not in html
