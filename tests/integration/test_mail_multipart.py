"""Booking mails as people's mail programs get them: text and HTML, the dates as a table, the
house rules, and the approved dates as an .ics to add to a calendar (with the feeds' UIDs);
and the development outbox page. Through a real SMTP server on localhost (aiosmtpd)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import icalendar
import pytest

from booking import create_app, domain
from booking.models import ApprovalPolicy
from booking.services import mail
from booking.services.bookings import BookingCommand, approve, move_occurrence, request_booking

BERLIN = ZoneInfo("Europe/Berlin")
RULES = "Bitte nach der Probe die Stühle hochstellen.\nKein Glas in der Halle."


def deliver(app, db) -> None:
    db.session.commit()
    with app.app_context():
        mail.send_pending(mail.MailSettings.from_config(app.config))


class _Tables(HTMLParser):
    """The HTML's tables as rows of cell texts, its <html lang> and the link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.tables: list[list[list[str]]] = []
        self.headers: list[str] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._in_th = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
            self._in_th = tag == "th" and attrs.get("scope") == "col"
        elif tag == "a":
            self.links.append(attrs.get("href"))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self.tables[-1][-1].append(text)
            if self._in_th:
                self.headers.append(text)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _keep(html: str, name: str) -> None:
    """Leave the HTML where a person (or a screenshot) can look at it after the run."""
    import os
    from pathlib import Path

    folder = os.environ.get("MAIL_HTML_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_text(html)


def parts(message):
    """The text part, the HTML part and the attachments of a mail."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return (
        text.get_content().replace("\u202f", " "),
        html.get_content().replace("\u202f", " ") if html is not None else None,
        list(message.iter_attachments()),
    )


def _weekly(user, room, title, count, *, hour=18):
    start = datetime(2026, 12, 1, hour, 0)  # a Tuesday, local time (CET)
    return request_booking(
        user,
        BookingCommand(
            room_id=room.id,
            title=title,
            start=start,
            end=start + timedelta(hours=1, minutes=30),
            recurrence=domain.Recurrence(freq="weekly", count=count),
            house_rules_accepted=True,
        ),
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )


def test_approval_mail_in_german_has_html_table_house_rules_and_calendar(
    app, db, smtp, make_user, make_room, make_site, client, login_as
):
    site = make_site(name="Gesamtschule Seilersee", street="Am Seilersee 1", city="Iserlohn")
    room = make_room(site, name="Forum", approval_policy=ApprovalPolicy.MANUAL, house_rules=RULES)
    manager = make_user(manages=[site])
    clara = make_user(email="clara@example.org", name="Clara", language="de")
    booking = _weekly(clara, room, "Chorprobe", 3)
    approve(manager, booking.id, now=datetime(2026, 11, 2, tzinfo=UTC))
    deliver(app, db)

    [received, approved] = smtp.to("clara@example.org")
    assert received["Subject"] == "Buchungsanfrage erhalten: Chorprobe"
    assert approved["Subject"] == "Buchung bestätigt: Chorprobe"
    assert approved.get_content_type() == "multipart/mixed"
    [alternative, _ics] = approved.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]

    text, html, [attachment] = parts(approved)
    assert "Dienstag, 1. Dezember 2026, 18:00–19:30" in text  # the text part as before
    assert "Adresse: Am Seilersee 1, 58636 Iserlohn" in text  # and address and house rules
    assert f"Hausordnung:\n{RULES}" in text.replace("\r\n", "\n")

    _keep(html, "approval-de.html")
    _keep(text, "approval-de.txt")
    page = _Tables()
    page.feed(html)
    assert page.lang == "de"
    assert page.headers == ["Datum", "Uhrzeit", "Raum", "Status", "Grund"]
    [table] = page.tables
    assert table[1:] == [
        [f"Dienstag, {day}. Dezember 2026", "18:00–19:30", "Forum", "bestätigt", ""]
        for day in (1, 8, 15)
    ]
    assert "Am Seilersee 1, 58636 Iserlohn" in html
    assert "Hausordnung" in html
    assert "Bitte nach der Probe die Stühle hochstellen." in html
    assert f"http://raumboerse.test/my/bookings#booking-{booking.id}" in page.links

    # The .ics: one event per approved date, at local 18:00–19:30, with the feeds' UIDs.
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == f"booking-{booking.id}.ics"
    assert attachment.get_param("method") == "PUBLISH"
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    assert calendar["METHOD"] == "PUBLISH"
    events = calendar.walk("VEVENT")
    assert [e.decoded("DTSTART") for e in events] == [
        datetime(2026, 12, day, 18, 0, tzinfo=BERLIN) for day in (1, 8, 15)
    ]
    assert {e.decoded("DTSTART").tzinfo.key for e in events} == {"Europe/Berlin"}
    assert [e.decoded("DTEND").hour for e in events] == [19, 19, 19]
    assert {str(e["STATUS"]) for e in events} == {"CONFIRMED"}
    assert [str(e["SUMMARY"]) for e in events] == ["Chorprobe"] * 3
    assert "Am Seilersee 1" in str(events[0]["LOCATION"])
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Berlin"
    uids = [str(e["UID"]) for e in events]
    assert uids == [f"occurrence-{o.id}@raumboerse.test" for o in booking.occurrences]

    # The same UIDs (and times) as the booking's calendar feed: importing both adds nothing twice.
    login_as(clara)
    feed = icalendar.Calendar.from_ical(client.get(f"/bookings/{booking.id}.ics").data)
    assert {str(e["UID"]): e.decoded("DTSTART") for e in feed.walk("VEVENT")} == {
        str(e["UID"]): e.decoded("DTSTART") for e in events
    }

    # The manager's mail about the new request: the dates as a table and a link to answer it.
    [request_mail] = smtp.to(manager.email)
    _, manager_html, manager_files = parts(request_mail)
    page = _Tables()
    page.feed(manager_html)
    assert [row[:2] for row in page.tables[0][1:]] == [
        [f"Dienstag, {day}. Dezember 2026", "18:00–19:30"] for day in (1, 8, 15)
    ]
    assert f"http://raumboerse.test/manage/requests?site={site.id}&room={room.id}" in page.links
    assert manager_files == []

    # The receipt of a request that waits: HTML too, but nothing to add to a calendar yet.
    _, received_html, received_files = parts(received)
    assert "wartet auf Freigabe" in received_html
    assert received_files == []


def test_partial_approval_in_english_lists_both_and_attaches_only_the_approved_date(
    app, db, smtp, make_user, make_room
):
    room = make_room(name="Hall", approval_policy=ApprovalPolicy.MANUAL, house_rules="No shoes.")
    manager = make_user(manages=[room.site])
    sam = make_user(email="sam@example.org", name="Sam", language="en")
    booking = _weekly(sam, room, "Language café", 2, hour=17)
    first, _ = booking.occurrences
    approve(manager, booking.id, [first.id], "See you", now=datetime(2026, 11, 2, tzinfo=UTC))
    deliver(app, db)

    [_, approved] = smtp.to("sam@example.org")
    assert approved["Subject"] == "Booking partly approved: Language café"
    _, html, [attachment] = parts(approved)
    _keep(html, "partial-en.html")
    page = _Tables()
    page.feed(html)
    assert page.lang == "en"
    assert page.headers[:5] == ["Date", "Time", "Room", "Status", "Reason"]
    approved_rows, other_rows = page.tables
    assert approved_rows[1:] == [
        ["Tuesday, 1 December 2026", "17:00–18:30", "Hall", "approved", "See you"]
    ]
    assert [row[3] for row in other_rows[1:]] == ["waiting for approval"]
    assert "House rules" in html and "No shoes." in html

    events = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [f"occurrence-{first.id}@raumboerse.test"]
    assert events[0].decoded("DTSTART") == datetime(2026, 12, 1, 17, 0, tzinfo=BERLIN)
    assert "Status: confirmed" in str(events[0]["DESCRIPTION"])  # the recipient's language


def test_moved_date_comes_with_its_new_time_in_the_calendar_file(
    app, db, smtp, make_user, make_room
):
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC)
    manager = make_user(manages=[room.site])
    user = make_user(email="move@example.org", language="de")
    booking = _weekly(user, room, "Yoga", 1)
    [occurrence] = booking.occurrences
    move_occurrence(
        manager,
        occurrence.id,
        datetime(2026, 12, 2, 19, 0),
        datetime(2026, 12, 2, 20, 0),
        reason="Hausmeister",
        now=datetime(2026, 11, 2, tzinfo=UTC),
    )
    deliver(app, db)

    [confirmed, moved] = smtp.to("move@example.org")
    assert parts(confirmed)[2]  # an automatically approved booking's receipt brings its .ics
    _, html, [attachment] = parts(moved)
    page = _Tables()
    page.feed(html)
    [table] = page.tables
    assert page.headers[-1] == "Vorher"
    assert table[1][:2] == ["Mittwoch, 2. Dezember 2026", "19:00–20:00"]
    assert table[1][-1] == "01.12.2026, 18:00–19:30"  # where the date was
    [event] = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert str(event["UID"]) == f"occurrence-{occurrence.id}@raumboerse.test"
    assert event.decoded("DTSTART") == datetime(2026, 12, 2, 19, 0, tzinfo=BERLIN)
    assert int(event["SEQUENCE"]) > 0  # a calendar that has the date replaces it


def test_password_reset_stays_a_plain_text_mail(app, db, smtp, make_user):
    from booking.services import accounts

    make_user(email="reset@example.org")
    accounts.request_password_reset("reset@example.org")
    deliver(app, db)
    [message] = smtp.to("reset@example.org")
    assert message.get_content_type() == "text/plain"


@pytest.fixture
def dev_app(database_url):
    """The app as ``BOOKING_ENV=development`` starts it (not a test app)."""
    app = create_app(
        {
            "ENV": "development",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": False,
        }
    )
    yield app
    from booking.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_dev_outbox_lists_the_mails_in_development_only(
    app, db, dev_app, make_user, make_room, client, database_url, monkeypatch
):
    room = make_room(approval_policy=ApprovalPolicy.AUTOMATIC, house_rules="Licht aus.")
    user = make_user(email="dev@example.org", language="de")
    booking = _weekly(user, room, "Probe im Dev", 1)
    db.session.commit()

    page = dev_app.test_client().get("/dev/outbox")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Buchung bestätigt: Probe im Dev" in body
    assert "dev@example.org" in body
    assert "Hallo User" in body  # the text part
    assert "srcdoc=" in body and "Licht aus." in body  # the HTML part, in a sandboxed frame
    assert f"booking-{booking.id}.ics" in body
    # The text's links, clickable (written by the development app, with its own base URL).
    assert re.search(r'href="https?://[^"/]+/my/bookings"', body)
    assert re.search(r"<html lang=\"(de|en)\"", body)

    # Not from another machine, nor through a proxy.
    assert (
        dev_app.test_client()
        .get("/dev/outbox", environ_base={"REMOTE_ADDR": "192.0.2.7"})
        .status_code
        == 404
    )
    assert (
        dev_app.test_client()
        .get("/dev/outbox", headers={"X-Forwarded-For": "192.0.2.7"})
        .status_code
        == 404
    )

    # The test app and a production app have no such page.
    assert client.get("/dev/outbox").status_code == 404
    monkeypatch.setenv("BOOKING_ENV", "production")
    production = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "a-long-production-secret"}
    )
    assert "dev.outbox" not in {r.endpoint for r in production.url_map.iter_rules()}
    assert production.test_client().get("/dev/outbox").status_code == 404
    from booking.extensions import db as _db

    with production.app_context():
        _db.engine.dispose()
