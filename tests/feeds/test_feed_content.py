"""What the feeds contain, read the way calendar apps read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from booking.domain import Frequency, Recurrence
from booking.models import Booking, Occurrence, OccurrenceStatus
from booking.services import bookings as services
from feeds.readers import BOOKED_AT, all_readers, icalendar_events

PASSWORD = "correct horse battery"  # tests/conftest.py gives every user this one
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def place(make_site, make_room, make_organisation, make_user):
    site = make_site(name="Gymnasium An der Stenner", street="Stennerstraße 5")
    room = make_room(site, name="Sporthalle")
    organisation = make_organisation(name="TuS Iserlohn")
    member = make_user(name="Anna Albers", email="anna@example.org", organisations=[organisation])
    manager = make_user(name="Hans Hausmeister", email="hausmeister@example.org", manages=[site])
    return site, room, organisation, member, manager


def _weekly(user, room, organisation, make_booking, **kwargs):
    """Weekly on Sundays 18:00–19:30 across both 2027 switches (28 March and 31 October)."""
    rule = Recurrence(Frequency.WEEKLY, until=date(2027, 11, 14))
    return make_booking(
        user,
        room,
        datetime(2027, 3, 14, 18, 0),
        90,
        now=BOOKED_AT,
        recurrence=rule,
        organisation_id=organisation.id,
        **kwargs,
    )


def test_readers_agree_and_expanded_dates_equal_the_approved_dates(client, db, place, make_booking):
    _site, room, organisation, member, manager = place
    booking = _weekly(member, room, organisation, make_booking, title="Volleyball")
    # One date declined, one moved by an hour: the feed must show exactly the approved dates.
    declined, moved = booking.occurrences[4], booking.occurrences[5]
    services.decline(manager, booking.id, "Schulfest", [declined.id], now=BOOKED_AT)
    services.move_occurrence(
        manager,
        moved.id,
        datetime(2027, 4, 18, 19, 0),
        datetime(2027, 4, 18, 20, 30),
        now=BOOKED_AT,
    )
    db.session.commit()

    response = client.get(f"/ical/rooms/{room.id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    events = all_readers(response.data)

    approved = db.session.scalars(
        db.select(Occurrence)
        .where(Occurrence.booking_id == booking.id, Occurrence.status == OccurrenceStatus.APPROVED)
        .order_by(Occurrence.starts_at)
    ).all()
    expected = [(o.starts_at.astimezone(BERLIN), o.ends_at.astimezone(BERLIN)) for o in approved]
    calendar = icalendar.Calendar.from_ical(response.data)
    expanded = recurring_ical_events.of(calendar).between(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
    )
    shown = sorted(
        (e.decoded("DTSTART").astimezone(BERLIN), e.decoded("DTEND").astimezone(BERLIN))
        for e in expanded
    )
    assert shown == expected
    assert len(events) == len(approved) == len(booking.occurrences) - 1

    local_starts = {start.strftime("%Y-%m-%d %H:%M") for start, _ in shown}
    # 18:00 stays 18:00 on both sides of both switches; the moved date is at 19:00.
    for day in ("2027-03-21", "2027-03-28", "2027-04-04", "2027-10-24", "2027-10-31", "2027-11-07"):
        assert f"{day} 18:00" in local_starts
    assert "2027-04-18 19:00" in local_starts
    assert not any(s.startswith("2027-04-11") for s in local_starts)
    assert not any(s.startswith("2027-03-28") and s != "2027-03-28 18:00" for s in local_starts)
    # Summer and winter instants as all three readers computed them.
    assert events_at(events, datetime(2027, 3, 21, 17, 0, tzinfo=UTC))  # CET, UTC+1
    assert events_at(events, datetime(2027, 3, 28, 16, 0, tzinfo=UTC))  # CEST, UTC+2
    assert events_at(events, datetime(2027, 10, 31, 17, 0, tzinfo=UTC))  # CET again
    assert b"DTSTART;TZID=Europe/Berlin:20270328T180000\r\n" in response.data


def events_at(events: dict, instant: datetime) -> list:
    return [uid for uid, event in events.items() if event["start"] == instant]


def test_event_properties(client, db, place, make_booking):
    _site, room, organisation, member, _manager = place
    booking = make_booking(
        member,
        room,
        datetime(2027, 6, 2, 17, 0),
        60,
        now=BOOKED_AT,
        is_public=True,
        title="Offenes Training",
        organisation_id=organisation.id,
    )
    occurrence = booking.occurrences[0]
    body = client.get(f"/ical/rooms/{room.id}.ics").data
    event = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(event["UID"]) == f"occurrence-{occurrence.id}@raumboerse.test"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == occurrence.sequence
    assert event.decoded("LAST-MODIFIED") == occurrence.updated_at.replace(microsecond=0)
    assert "DTSTAMP" in event
    assert str(event["LOCATION"]) == (
        "Sporthalle, Gymnasium An der Stenner, Stennerstraße 5, 58636 Iserlohn"
    )
    assert str(event["URL"]) == f"http://raumboerse.test/rooms/{room.id}"
    assert str(event["SUMMARY"]) == "Offenes Training"
    assert "TuS Iserlohn" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == datetime(2027, 6, 2, 17, 0, tzinfo=BERLIN)


def test_calendar_properties_durations_and_window(client, db, place, make_booking, app):
    _site, room, _organisation, member, _manager = place
    make_booking(member, room, datetime(2027, 2, 1, 10, 0), now=BOOKED_AT, title="drin")
    # Outside the window (FEED_NOW 2027-01-15 minus 90 days / plus 548 days).
    make_booking(member, room, datetime(2026, 10, 1, 10, 0), now=BOOKED_AT, title="zu alt")
    make_booking(member, room, datetime(2028, 8, 1, 10, 0), now=BOOKED_AT, title="zu weit")
    body = client.get(f"/ical/rooms/{room.id}.ics").data
    text = body.decode()
    assert "VERSION:2.0\r\n" in text
    assert "PRODID:-//Raumbörse Iserlohn//Raumbörse Calendar Feeds//DE\r\n" in text
    assert "X-WR-CALNAME:Sporthalle – Gymnasium An der Stenner\r\n" in text
    assert "X-WR-TIMEZONE:Europe/Berlin\r\n" in text
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "X-PUBLISHED-TTL:PT1H\r\n" in text
    assert "1:00:00" not in text
    assert text.count("BEGIN:VTIMEZONE") == 1
    assert [e["summary"] for e in icalendar_events(body).values()] == ["Belegt"]

    app.config["FEED_TTL_SECONDS"] = 900
    try:
        text = client.get(f"/ical/rooms/{room.id}.ics").data.decode()
    finally:
        app.config["FEED_TTL_SECONDS"] = 3600
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in text
    assert "X-PUBLISHED-TTL:PT15M\r\n" in text


def test_text_round_trips_and_lines_are_folded_with_crlf(client, db, place, make_booking):
    _site, room, organisation, member, _manager = place
    title = "Chor; Probe, Stimmbildung 🎶 für Ältere – Übungsabend mit Kaffee ☕ und Kuchen 🍰🍰"
    description = "Zeile 1, mit Komma; Semikolon\nZeile 2: Grüße 😀\\ Backslash"
    booking = make_booking(
        member,
        room,
        datetime(2027, 5, 5, 18, 0),
        now=BOOKED_AT,
        title=title,
        description=description,
        is_public=True,
        organisation_id=organisation.id,
    )
    for url in (f"/ical/rooms/{room.id}.ics", f"/ical/feed/{_token(client, member)}.ics"):
        body = client.get(url).data
        events = all_readers(body)
        (event,) = events.values()
        assert event["summary"] == title
        assert event["description"].endswith(description)
        lines = body.split(b"\r\n")
        assert lines[-1] == b""
        assert all(len(line) <= 75 for line in lines), max(lines, key=len)
        assert b"\n" not in body.replace(b"\r\n", b"")
        assert any(line.startswith(b" ") for line in lines)  # something was folded
        for line in lines:
            line.decode("utf-8")  # folding never splits a multi-byte character
    assert booking.title == title


def _token(client, user) -> str:
    from booking.feeds.service import issue_token

    token = issue_token(user)
    from booking.extensions import db

    db.session.commit()
    return token


def test_private_bookings_are_anonymous_busy_blocks_in_public_feeds(
    client, db, place, make_booking
):
    site, room, organisation, member, manager = place
    secret = make_booking(
        member,
        room,
        datetime(2027, 5, 6, 18, 0),
        now=BOOKED_AT,
        title="Geheimes Vorstandstreffen",
        description="Kassenprüfung mit Frau Schmidt",
        organisation_id=organisation.id,
    )
    make_booking(
        manager,
        room,
        datetime(2027, 5, 7, 18, 0),
        now=BOOKED_AT,
        title="Tag der offenen Tür",
        is_public=True,
    )
    forbidden = [
        "Geheimes Vorstandstreffen",
        "Kassenprüfung",
        "Schmidt",
        "TuS Iserlohn",
        "Anna Albers",
        "anna@example.org",
        "Hans Hausmeister",
        "hausmeister@example.org",
    ]
    for lang, busy in (("de", "Belegt"), ("en", "Occupied")):
        for url in (
            f"/ical/rooms/{room.id}.ics?lang={lang}",
            f"/ical/sites/{site.id}.ics?lang={lang}",
            f"/ical/public.ics?lang={lang}",
        ):
            response = client.get(url)
            assert response.status_code == 200
            text = response.data.decode()
            unfolded = text.replace("\r\n ", "")
            for word in forbidden:
                assert word not in unfolded, (url, word)
            summaries = sorted(e["summary"] for e in all_readers(response.data).values())
            if "public.ics" in url:
                assert summaries == ["Tag der offenen Tür"]
            else:
                assert summaries == sorted([busy, "Tag der offenen Tür"])
    # The people party to it see everything in their own feed.
    text = client.get(f"/ical/feed/{_token(client, member)}.ics").data.decode().replace("\r\n ", "")
    assert "Geheimes Vorstandstreffen" in text and "Kassenprüfung" in text
    assert f"/bookings/{secret.id}" in text


def test_private_dates_are_busy_blocks_and_public_ones_show_their_details(
    client, db, place, make_booking
):
    """Event by event: what a public feed shows of a private and of a public booking."""
    _site, room, organisation, member, _manager = place
    private = make_booking(
        member,
        room,
        datetime(2027, 5, 6, 18, 0),
        now=BOOKED_AT,
        title="Vorstandssitzung",
        description="Kasse prüfen",
        organisation_id=organisation.id,
    )
    public = make_booking(
        member,
        room,
        datetime(2027, 5, 7, 18, 0),
        now=BOOKED_AT,
        title="Offener Spieleabend",
        description="Alle willkommen",
        is_public=True,
        organisation_id=organisation.id,
    )
    hidden_uid = f"occurrence-{private.occurrences[0].id}@raumboerse.test"
    shown_uid = f"occurrence-{public.occurrences[0].id}@raumboerse.test"
    url = f"/ical/rooms/{room.id}.ics"
    words = (("de", "Belegt", "Veranstalter"), ("en", "Occupied", "Organiser"))
    for lang, busy, organiser in words:
        body = client.get(f"{url}?lang={lang}").data
        events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
        hidden, shown = events[hidden_uid], events[shown_uid]
        assert str(hidden["SUMMARY"]) == busy
        assert "DESCRIPTION" not in hidden
        assert str(hidden["URL"]) == f"http://raumboerse.test/rooms/{room.id}"
        assert str(hidden["LOCATION"]) == str(shown["LOCATION"])
        assert str(shown["SUMMARY"]) == "Offener Spieleabend"
        assert str(shown["DESCRIPTION"]) == f"{organiser}: TuS Iserlohn\n\nAlle willkommen"
        assert all_readers(body)[hidden_uid]["summary"] == busy

    # The member's own feed shows both in full, with their status and a link to the booking.
    body = client.get(f"/ical/feed/{_token(client, member)}.ics").data
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    assert str(events[hidden_uid]["SUMMARY"]) == "Vorstandssitzung"
    assert str(events[hidden_uid]["DESCRIPTION"]) == (
        "Veranstalter: TuS Iserlohn\nStatus: bestätigt\n\nKasse prüfen"
    )
    assert str(events[hidden_uid]["URL"]) == f"http://raumboerse.test/bookings/{private.id}"

    # Made public, the booking shows its title in the room feed at the next request.
    before = client.get(url)
    db.session.get(Booking, private.id).is_public = True
    db.session.commit()
    after = client.get(url)
    assert after.headers["ETag"] != before.headers["ETag"]
    summaries = {uid: e["summary"] for uid, e in all_readers(after.data).items()}
    assert summaries[hidden_uid] == "Vorstandssitzung"


def test_each_site_keeps_its_own_zone_in_one_feed(
    client, db, make_site, make_room, make_user, make_booking
):
    """Local wall time with TZID per site, UTC as a plain Z time, one VTIMEZONE per zone."""
    user = make_user()
    offers = {}
    for zone in ("Europe/Berlin", "America/New_York", "UTC"):
        room = make_room(make_site(timezone=zone))
        booking = make_booking(
            user, room, datetime(2027, 3, 20, 18, 0), now=BOOKED_AT, title=zone, is_public=True
        )
        offers[zone] = booking.occurrences[0]
    body = client.get("/ical/public.ics").data
    text = body.decode()
    assert "DTSTART;TZID=Europe/Berlin:20270320T180000\r\n" in text
    assert "DTSTART;TZID=America/New_York:20270320T180000\r\n" in text
    assert "DTSTART:20270320T180000Z\r\n" in text
    for zone in ("Europe/Berlin", "America/New_York", "UTC"):
        assert text.count(f"TZID:{zone}\r\n") == 1
    events = all_readers(body)
    for zone, occurrence in offers.items():
        event = events[f"occurrence-{occurrence.id}@raumboerse.test"]
        assert event["summary"] == zone
        assert (event["start"], event["end"]) == (occurrence.starts_at, occurrence.ends_at)
        expected = datetime(2027, 3, 20, 18, 0, tzinfo=ZoneInfo(zone))
        assert event["start"] == expected


def test_public_feed_lists_upcoming_public_offers_by_district(
    client, db, make_site, make_room, make_user, make_booking
):
    west = make_room(make_site(district="Letmathe"))
    centre = make_room(make_site(district="Innenstadt"))
    user = make_user()
    make_booking(
        user, west, datetime(2027, 2, 3, 10, 0), now=BOOKED_AT, title="Repair-Café", is_public=True
    )
    make_booking(
        user, centre, datetime(2027, 2, 3, 10, 0), now=BOOKED_AT, title="Lesecafé", is_public=True
    )
    make_booking(
        user, centre, datetime(2027, 1, 10, 10, 0), now=BOOKED_AT, title="Vorbei", is_public=True
    )
    make_booking(user, centre, datetime(2027, 2, 4, 10, 0), now=BOOKED_AT, title="Privat")

    def titles(url):
        return sorted(e["summary"] for e in all_readers(client.get(url).data).values())

    assert titles("/ical/public.ics") == ["Lesecafé", "Repair-Café"]
    assert titles("/ical/public.ics?district=letmathe") == ["Repair-Café"]
    # A district without an active site is no district of the feeds (not text to echo).
    assert client.get("/ical/public.ics?district=Hennen").status_code == 404


def test_personal_feed_has_pending_and_recently_cancelled_dates(
    client, db, place, make_room, make_booking, monkeypatch
):
    """Cancellation age is measured against the real clock, so this test runs on it."""
    from booking.feeds import service
    from booking.models import utcnow

    monkeypatch.setattr(service, "clock", utcnow)
    now = utcnow()
    day = (now + timedelta(days=40)).astimezone(BERLIN).replace(tzinfo=None)
    evening = day.replace(hour=18, minute=0, second=0, microsecond=0)
    site, room, organisation, member, manager = place
    manual = make_room(site, name="Aula", approval_policy="manual")
    pending = make_booking(
        member, manual, evening, now=now, title="Anfrage", organisation_id=organisation.id
    )
    rule = Recurrence(Frequency.WEEKLY, count=3)
    series = make_booking(
        member,
        room,
        evening + timedelta(days=1),
        now=now,
        title="Serie",
        organisation_id=organisation.id,
        recurrence=rule,
    )
    first, second, third = series.occurrences
    services.cancel(member, series.id, [second.id], now=now)
    db.session.commit()

    token = _token(client, member)
    events = all_readers(client.get(f"/ical/feed/{token}.ics").data)
    by_id = {uid.split("@")[0]: e for uid, e in events.items()}
    assert by_id[f"occurrence-{pending.occurrences[0].id}"]["status"] == "TENTATIVE"
    assert by_id[f"occurrence-{first.id}"]["status"] == "CONFIRMED"
    cancelled = by_id[f"occurrence-{second.id}"]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["sequence"] == 1
    assert by_id[f"occurrence-{third.id}"]["url"] == f"http://raumboerse.test/bookings/{series.id}"

    # The manager's feed has the requests of their site, with full details.
    manager_events = all_readers(client.get(f"/ical/feed/{_token(client, manager)}.ics").data)
    assert {e["summary"] for e in manager_events.values()} == {"Anfrage", "Serie"}
    assert "TENTATIVE" in {e["status"] for e in manager_events.values()}

    # A while after the cancellation the date is gone from the feed.
    cancelled_row = db.session.get(Occurrence, second.id)
    cancelled_row.updated_at = now - timedelta(days=service.CANCELLED_DAYS + 2)
    db.session.commit()
    events = all_readers(client.get(f"/ical/feed/{token}.ics").data)
    assert f"occurrence-{second.id}@raumboerse.test" not in events
    assert f"occurrence-{third.id}@raumboerse.test" in events


def test_uid_stays_and_sequence_grows_when_a_date_moves(client, db, place, make_booking):
    _site, room, _organisation, member, manager = place
    booking = make_booking(member, room, datetime(2027, 4, 7, 18, 0), now=BOOKED_AT)
    occurrence = booking.occurrences[0]
    uid = f"occurrence-{occurrence.id}@raumboerse.test"
    before = icalendar_events(client.get(f"/ical/rooms/{room.id}.ics").data)[uid]
    services.move_occurrence(
        manager,
        occurrence.id,
        datetime(2027, 4, 8, 18, 0),
        datetime(2027, 4, 8, 19, 0),
        now=BOOKED_AT,
    )
    db.session.commit()
    after = icalendar_events(client.get(f"/ical/rooms/{room.id}.ics").data)[uid]
    assert after["sequence"] > before["sequence"]
    assert after["start"] == datetime(2027, 4, 8, 16, 0, tzinfo=UTC)


def test_booking_feed_for_party_and_manager_only(client, db, place, make_user, make_booking):
    _site, room, organisation, member, manager = place
    booking = make_booking(
        member,
        room,
        datetime(2027, 4, 7, 18, 0),
        now=BOOKED_AT,
        title="Jahreshauptversammlung",
        organisation_id=organisation.id,
    )
    url = f"/bookings/{booking.id}.ics"
    assert client.get(url).status_code in (302, 404)
    for user in (member, manager):
        _log_in(client, user)
        response = client.get(url)
        assert response.status_code == 200
        events = all_readers(response.data)
        assert [e["summary"] for e in events.values()] == ["Jahreshauptversammlung"]
        assert "private" in response.headers["Cache-Control"]
    _log_in(client, make_user())
    assert client.get(url).status_code == 404
    assert client.get("/bookings/999999.ics").status_code == 404


def _log_in(client, user) -> None:
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_the_feeds_vtimezone_matches_zoneinfo_over_the_whole_window(client, db, place, app):
    import vobject

    from feeds.readers import FEED_NOW

    _site, room, *_ = place
    db.session.commit()
    body = client.get(f"/ical/rooms/{room.id}.ics").data.decode()
    tz = vobject.readOne(body).vtimezone.gettzinfo()
    day = FEED_NOW - timedelta(days=app.config["FEED_DAYS_BACK"])
    last = FEED_NOW + timedelta(days=app.config["FEED_DAYS_AHEAD"])
    while day <= last:
        for hour in (0, 1, 12):
            instant = day.replace(hour=hour, minute=0)
            assert instant.astimezone(tz).utcoffset() == instant.astimezone(BERLIN).utcoffset()
        day += timedelta(days=1)


def test_changing_the_refresh_interval_changes_the_etag(client, db, place, app):
    _site, room, *_ = place
    db.session.commit()
    url = f"/ical/rooms/{room.id}.ics"
    before = client.get(url).headers["ETag"]
    app.config["FEED_TTL_SECONDS"] = 1800
    try:
        response = client.get(url, headers={"If-None-Match": before})
    finally:
        app.config["FEED_TTL_SECONDS"] = 3600
    assert response.status_code == 200
    assert "X-PUBLISHED-TTL:PT30M" in response.data.decode()
