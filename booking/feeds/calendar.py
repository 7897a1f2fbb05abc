"""Turn occurrence rows into an iCalendar document.

Expanded dates, not RRULE: every occurrence row becomes one VEVENT with its own UID
(``occurrence-<id>@<host>``). The rows are the truth (STYLE rule 10): a series may be partly
declined, single dates moved to another time or room, dates left out for closures; an
RRULE+EXDATE+RECURRENCE-ID rendering would have to re-derive all of that and every client would
have to expand it the same way (Indico's "second Monday" feeds disagreed with its bookings).
One event per date also gives each date its own STATUS, SEQUENCE and LAST-MODIFIED, which is
what lets a subscribed calendar drop a single cancelled date. The cost is size, bounded by the
feed window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

from booking.feeds.service import Feed
from booking.feeds.timezones import vtimezone
from booking.models import Occurrence, OccurrenceStatus

PRODID = "-//Raumbörse Iserlohn//Raumbörse Calendar Feeds//DE"

# The feed's language is part of its URL (``?lang=``) and the subscribing calendar stores the
# text for good, so the handful of words in a feed are fixed here rather than following the
# visitor's interface language.
WORDS = {
    "de": {
        "occupied": "Belegt",
        "organisation": "Veranstalter",
        "status": "Status",
        "reason": "Begründung",
        "room": "Raum",
        "public": "Offene Angebote",
        "personal": "Meine Raumbuchungen",
        "pending": "angefragt",
        "approved": "bestätigt",
        "declined": "abgelehnt",
        "cancelled": "abgesagt",
    },
    "en": {
        "occupied": "Occupied",
        "organisation": "Organiser",
        "status": "Status",
        "reason": "Reason",
        "room": "Room",
        "public": "Public events",
        "personal": "My room bookings",
        "pending": "requested",
        "approved": "confirmed",
        "declined": "declined",
        "cancelled": "cancelled",
    },
}

_ENDED = (OccurrenceStatus.CANCELLED, OccurrenceStatus.DECLINED)

ICAL_STATUS = {
    OccurrenceStatus.PENDING: "TENTATIVE",
    OccurrenceStatus.APPROVED: "CONFIRMED",
    OccurrenceStatus.DECLINED: "CANCELLED",
    OccurrenceStatus.CANCELLED: "CANCELLED",
}


def calendar_name(feed: Feed, site_name: str) -> str:
    words = WORDS[feed.lang]
    if feed.kind == "room" and feed.room is not None:
        return f"{feed.room.name} – {feed.room.site.name}"
    if feed.kind == "site" and feed.site is not None:
        return feed.site.name
    if feed.kind == "public":
        name = f"{words['public']} – {site_name}"
        return f"{name} ({feed.district})" if feed.district else name
    if feed.kind == "booking" and feed.booking is not None:
        return feed.booking.title
    return f"{words['personal']} – {site_name}"


def location(occurrence: Occurrence) -> str:
    room = occurrence.room
    site = room.site
    return ", ".join(p for p in (room.name, site.name, site.address) if p)


def _description(feed: Feed, occurrence: Occurrence) -> str:
    words = WORDS[feed.lang]
    booking = occurrence.booking
    lines = []
    if booking.organisation is not None:
        lines.append(f"{words['organisation']}: {booking.organisation.name}")
    if feed.detailed:
        lines.append(f"{words['status']}: {words[occurrence.status.value]}")
        if occurrence.status_reason:
            lines.append(f"{words['reason']}: {occurrence.status_reason}")
    if booking.description:
        lines.extend(("", booking.description))
    return "\n".join(lines).strip()


def event_for(feed: Feed, occurrence: Occurrence, *, host: str, base_url: str) -> Event:
    booking = occurrence.booking
    zone = ZoneInfo(occurrence.room.site.timezone)
    changed = max(occurrence.updated_at, booking.updated_at)
    event = Event()
    event.add("uid", f"occurrence-{occurrence.id}@{host}")
    # Without METHOD, DTSTAMP is the time the information last changed (RFC 5545, 3.8.7.2);
    # taking it from the data keeps unchanged feeds byte-identical.
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("created", occurrence.created_at)
    event.add("sequence", occurrence.sequence)
    event.add("dtstart", occurrence.starts_at.astimezone(zone))
    event.add("dtend", occurrence.ends_at.astimezone(zone))
    event.add("status", ICAL_STATUS[occurrence.status])
    event.add("transp", "TRANSPARENT" if occurrence.status in _ENDED else "OPAQUE")
    event.add("location", location(occurrence))
    if feed.detailed or booking.is_public:
        event.add("summary", booking.title)
        description = _description(feed, occurrence)
        if description:
            event.add("description", description)
    else:
        # Private bookings in public feeds: a busy block, nothing about who or what.
        event.add("summary", WORDS[feed.lang]["occupied"])
    if feed.detailed:
        event.add("url", f"{base_url}/bookings/{booking.id}")
    else:
        event.add("url", f"{base_url}/rooms/{occurrence.room_id}")
    return event


def _span(feed: Feed, rows: Iterable[Occurrence], fallback: date) -> tuple[date, date]:
    days = [o.starts_at.date() for o in rows] + [o.ends_at.date() for o in rows]
    if feed.window is not None:
        days += [feed.window.start.date(), feed.window.end.date()]
    if not days:
        return fallback, fallback
    return min(days) - timedelta(days=1), max(days) + timedelta(days=1)


def build(
    feed: Feed,
    rows: list[Occurrence],
    *,
    host: str,
    base_url: str,
    site_name: str,
    ttl_seconds: int,
    today: date,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    name = calendar_name(feed, site_name)
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", feed.timezone)
    ttl = timedelta(seconds=ttl_seconds)
    # Both as RFC 5545 durations ("PT1H"); a plain timedelta would be written as "1:00:00".
    calendar.add("refresh-interval", vDuration(ttl), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(ttl))
    first, last = _span(feed, rows, today)
    zones = sorted({feed.timezone} | {o.room.site.timezone for o in rows})
    for tzid in zones:
        calendar.add_component(vtimezone(tzid, first, last))
    for occurrence in rows:
        calendar.add_component(event_for(feed, occurrence, host=host, base_url=base_url))
    return calendar.to_ical()
