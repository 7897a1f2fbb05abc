"""Turn occurrence rows into an iCalendar document.

Expanded dates, not RRULE: every occurrence row becomes one VEVENT with its own UID
(``occurrence-<id>@<host>``). The rows are the truth (STYLE rule 10): a series may be partly
declined, single dates moved to another time or room, dates left out for closures; an
RRULE+EXDATE+RECURRENCE-ID rendering would have to re-derive all of that and every client would
have to expand it the same way (Indico's "second Monday" feeds disagreed with its bookings).
One event per date also gives each date its own STATUS, SEQUENCE and LAST-MODIFIED, which is
what lets a subscribed calendar drop a single cancelled date. The cost is size, bounded by the
feed window, and with it the time to write the text: the events are written as strings
(``booking.feeds.writer``) from plain rows, not as icalendar components, and a rendered body is
kept per ETag (``booking.feeds.cache``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar.timezone.tzid import is_utc
from sqlalchemy import Row

from booking.feeds.service import Feed
from booking.feeds.timezones import vtimezone
from booking.feeds.writer import duration, escape_text, fold, local_time, utc_stamp
from booking.models import OccurrenceStatus, Site

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
    if feed.kind in ("room", "site", "booking", "offer") and feed.label:
        return feed.label
    if feed.kind == "public":
        name = f"{words['public']} – {site_name}"
        return f"{name} ({feed.district})" if feed.district else name
    return f"{words['personal']} – {site_name}"


def location(row: Row) -> str:
    address = Site.address.fget(row)  # the same address the site's pages show
    return ", ".join(p for p in (row.room_name, row.site_name, address) if p)


def _description(feed: Feed, row: Row) -> str:
    words = WORDS[feed.lang]
    lines = []
    if row.organisation is not None:
        lines.append(f"{words['organisation']}: {row.organisation}")
    if feed.detailed:
        lines.append(f"{words['status']}: {words[row.status.value]}")
        if row.status_reason:
            lines.append(f"{words['reason']}: {row.status_reason}")
    if row.description:
        lines.extend(("", row.description))
    return "\n".join(lines).strip()


@lru_cache(maxsize=64)
def _vtimezone_text(tzid: str, first: date, last: date) -> str:
    """Few zones, and the span moves at most daily: serialize each with icalendar once."""
    return vtimezone(tzid, first, last).to_ical().decode()


@lru_cache(maxsize=64)
def _zone(tzid: str) -> tuple[ZoneInfo, str, str]:
    """The zone, and how DTSTART/DTEND name it: ``;TZID=<zone>``, or a ``Z`` suffix for UTC."""
    zone = ZoneInfo(tzid)
    return (zone, "", "Z") if is_utc(zone) else (zone, f";TZID={tzid}", "")


class _Events:
    """Writes the VEVENT of each row.

    Most of an event is the same for every date of a booking in one room with one status (its
    summary, description, location, status and link); that text is escaped and folded once per
    such group, and only the times, UID and sequence are written per row. Along the way it notes
    what the VTIMEZONEs need: the zones used and the first and last instant.
    """

    def __init__(self, feed: Feed, *, host: str, base_url: str) -> None:
        self.feed = feed
        self.uid_suffix = escape_text(f"@{host}")
        self.base_url = base_url
        self.busy = fold(f"SUMMARY:{escape_text(WORDS[feed.lang]['occupied'])}")
        self.groups: dict[tuple, tuple] = {}
        self.zones = {feed.timezone}
        self.first: datetime | None = None
        self.last: datetime | None = None

    def _group(self, row: Row) -> tuple:
        feed = self.feed
        zone, tzid, utc = _zone(row.timezone)
        self.zones.add(row.timezone)
        if feed.detailed or row.is_public:
            summary = fold(f"SUMMARY:{escape_text(row.title)}")
            text = _description(feed, row)
            description = fold(f"DESCRIPTION:{escape_text(text)}") if text else ""
        else:
            # Private bookings in public feeds: a busy block, nothing about who or what.
            summary, description = self.busy, ""
        if feed.detailed:
            url = f"{self.base_url}/bookings/{row.booking_id}"
        else:
            url = f"{self.base_url}/rooms/{row.room_id}"
        transparency = "TRANSPARENT" if row.status in _ENDED else "OPAQUE"
        tail = "".join(
            (
                fold(f"LOCATION:{escape_text(location(row))}"),
                f"STATUS:{ICAL_STATUS[row.status]}\r\n",
                f"TRANSP:{transparency}\r\n",
                fold(f"URL:{url}"),
                "END:VEVENT\r\n",
            )
        )
        return zone, f"DTSTART{tzid}:", f"DTEND{tzid}:", utc, summary, description, tail

    def event(self, row: Row) -> str:
        key = (row.booking_id, row.room_id, row.status, row.status_reason)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = self._group(row)
        zone, dtstart, dtend, utc, summary, description, tail = group
        if self.first is None or row.starts_at < self.first:
            self.first = row.starts_at
        if self.last is None or row.ends_at > self.last:
            self.last = row.ends_at
        # Without METHOD, DTSTAMP is the time the information last changed (RFC 5545, 3.8.7.2);
        # taking it from the data keeps unchanged feeds byte-identical.
        changed = utc_stamp(row.changed)
        # Properties in the order icalendar wrote them, so the text did not change with the
        # writer.
        return "".join(
            (
                "BEGIN:VEVENT\r\n",
                summary,
                fold(dtstart + local_time(row.starts_at.astimezone(zone)) + utc),
                fold(dtend + local_time(row.ends_at.astimezone(zone)) + utc),
                f"DTSTAMP:{changed}\r\n",
                fold(f"UID:occurrence-{row.id}{self.uid_suffix}"),
                f"SEQUENCE:{row.sequence}\r\n",
                f"CREATED:{utc_stamp(row.created_at)}\r\n",
                description,
                f"LAST-MODIFIED:{changed}\r\n",
                tail,
            )
        )


def _span(feed: Feed, events: _Events, fallback: date) -> tuple[date, date]:
    """The UTC days the VTIMEZONEs must cover: the events and the window, a day more each side."""
    days = [moment.date() for moment in (events.first, events.last) if moment is not None]
    if feed.window is not None:
        days += [feed.window.start.date(), feed.window.end.date()]
    if not days:
        return fallback, fallback
    return min(days) - timedelta(days=1), max(days) + timedelta(days=1)


def build(
    feed: Feed,
    rows: Iterable[Row],
    *,
    host: str,
    base_url: str,
    site_name: str,
    ttl_seconds: int,
    today: date,
) -> bytes:
    """The feed's document from its rows (``service.event_rows``), in their order.

    The rows are read once, as they come: a feed's rows are not all held at once, so a large
    feed leaves little behind for the garbage collector to walk.
    """
    events = _Events(feed, host=host, base_url=base_url)
    body = [events.event(row) for row in rows]
    name = escape_text(calendar_name(feed, site_name))
    ttl = duration(timedelta(seconds=ttl_seconds))
    # Header properties in the order icalendar wrote them. Both TTLs as RFC 5545 durations
    # ("PT1H"), which is what clients parse.
    head = [
        "BEGIN:VCALENDAR\r\n",
        "VERSION:2.0\r\n",
        fold(f"PRODID:{escape_text(PRODID)}"),
        "CALSCALE:GREGORIAN\r\n",
        fold(f"NAME:{name}"),
        fold(f"X-WR-CALNAME:{name}"),
        f"REFRESH-INTERVAL;VALUE=DURATION:{ttl}\r\n",
        f"X-PUBLISHED-TTL:{ttl}\r\n",
        fold(f"X-WR-TIMEZONE:{escape_text(feed.timezone)}"),
    ]
    first, last = _span(feed, events, today)
    head += [_vtimezone_text(tzid, first, last) for tzid in sorted(events.zones)]
    return "".join((*head, *body, "END:VCALENDAR\r\n")).encode()


def invitation(
    feed: Feed,
    rows: Iterable,
    *,
    host: str,
    base_url: str,
    now: datetime,
) -> bytes:
    """A booking's dates as a calendar file to send with a mail (``METHOD:PUBLISH``).

    The same events as the booking's feed (the same writer, UIDs and VTIMEZONEs), so a
    calendar that already has a date from a feed or an earlier mail updates it rather than
    adding it twice. PUBLISH, not REQUEST: the mail tells of dates the requester booked; nobody
    is invited and no answer is expected (REQUEST would need an ORGANIZER and ATTENDEEs and make
    clients offer "accept/decline" to the organiser). With a METHOD, DTSTAMP is when the file
    was made (RFC 5545, 3.8.7.2), so ``changed`` of each row should be ``now``.
    """
    events = _Events(feed, host=host, base_url=base_url)
    body = [events.event(row) for row in rows]
    # No calendar name: some clients would file the dates in a new calendar of that name.
    head = [
        "BEGIN:VCALENDAR\r\n",
        "VERSION:2.0\r\n",
        fold(f"PRODID:{escape_text(PRODID)}"),
        "CALSCALE:GREGORIAN\r\n",
        "METHOD:PUBLISH\r\n",
    ]
    first, last = _span(feed, events, now.date())
    head += [_vtimezone_text(tzid, first, last) for tzid in sorted(events.zones)]
    return "".join((*head, *body, "END:VCALENDAR\r\n")).encode()
