"""Three independent iCalendar readers and the fixed times the feed tests use."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import vobject
from ical.calendar_stream import IcsCalendarStream

# The feed window is computed from "now"; pin it so the 2027 dates stay inside it for good.
FEED_NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
# The services' own "now" when the test data is requested: before every booked date.
BOOKED_AT = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


def icalendar_events(body: bytes) -> dict[str, dict]:
    calendar = icalendar.Calendar.from_ical(body)
    return {
        str(event["UID"]): {
            "start": event.decoded("DTSTART").astimezone(UTC),
            "end": event.decoded("DTEND").astimezone(UTC),
            "summary": str(event.get("SUMMARY", "")),
            "status": str(event.get("STATUS", "")),
            "sequence": int(event.get("SEQUENCE", 0)),
            "description": str(event.get("DESCRIPTION", "")),
            "location": str(event.get("LOCATION", "")),
            "url": str(event.get("URL", "")),
        }
        for event in calendar.walk("VEVENT")
    }


def vobject_events(body: bytes) -> dict[str, dict]:
    calendar = vobject.readOne(body.decode("utf-8"))
    events = getattr(calendar, "vevent_list", [])
    return {
        event.uid.value: {
            "start": event.dtstart.value.astimezone(UTC),
            "end": event.dtend.value.astimezone(UTC),
            "summary": event.summary.value,
        }
        for event in events
    }


def ical_events(body: bytes) -> dict[str, dict]:
    calendar = IcsCalendarStream.calendar_from_ics(body.decode("utf-8"))
    return {
        event.uid: {
            "start": event.dtstart.astimezone(UTC),
            "end": event.dtend.astimezone(UTC),
            "summary": event.summary,
        }
        for event in calendar.events
    }


def all_readers(body: bytes) -> dict[str, dict]:
    """Parse with icalendar, vobject and ical; fail unless all three see the same instants."""
    first = icalendar_events(body)
    for other in (vobject_events(body), ical_events(body)):
        assert set(other) == set(first)
        for uid, event in other.items():
            assert (event["start"], event["end"]) == (first[uid]["start"], first[uid]["end"]), uid
            assert event["summary"] == first[uid]["summary"], uid
    return first
