"""The generated VTIMEZONE: RRULE-style rules whose offsets equal zoneinfo on every day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from booking.feeds.timezones import vtimezone

FIRST, LAST = date(2026, 10, 17), date(2028, 7, 16)
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Tokyo"]


def _instants():
    day = FIRST
    while day <= LAST:
        for hour in (0, 1, 2, 12):  # the European switches happen at 01:00 UTC
            yield datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        day += timedelta(days=1)


def _readers(tzid: str):
    component = vtimezone(tzid, FIRST, LAST)
    text = component.to_ical().decode()
    # icalendar turns the component's own rules into a tzinfo (it does not look the name up).
    from_icalendar = icalendar.Timezone.from_ical(text).to_tz()
    wrapped = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{text}END:VCALENDAR\r\n"
    from_vobject = vobject.readOne(wrapped).vtimezone.gettzinfo()
    return text, from_icalendar, from_vobject


@pytest.mark.parametrize("tzid", ZONES)
def test_offsets_match_zoneinfo_for_every_day_of_the_window(tzid):
    zone = ZoneInfo(tzid)
    _text, from_icalendar, from_vobject = _readers(tzid)
    for instant in _instants():
        expected = instant.astimezone(zone).utcoffset()
        assert instant.astimezone(from_icalendar).utcoffset() == expected, instant
        assert instant.astimezone(from_vobject).utcoffset() == expected, instant


@pytest.mark.parametrize("tzid", ZONES)
def test_local_wall_times_map_to_the_same_instant(tzid):
    """The reverse direction (what a client does with DTSTART;TZID=...): local 18:00 every day."""
    zone = ZoneInfo(tzid)
    _text, from_icalendar, from_vobject = _readers(tzid)
    day = FIRST
    while day <= LAST:
        wall = datetime(day.year, day.month, day.day, 18)
        expected = wall.replace(tzinfo=zone).utcoffset()
        assert wall.replace(tzinfo=from_icalendar).utcoffset() == expected, wall
        assert wall.replace(tzinfo=from_vobject).utcoffset() == expected, wall
        day += timedelta(days=1)


def test_berlin_uses_yearly_rules_not_date_lists():
    text, _, _ = _readers("Europe/Berlin")
    assert "RDATE" not in text
    assert text.count("BEGIN:STANDARD") == 1 and text.count("BEGIN:DAYLIGHT") == 1
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n" in text
    assert "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200" in text
    assert "TZID:Europe/Berlin\r\n" in text


def test_a_zone_without_daylight_saving_has_one_fixed_observance():
    text, _, _ = _readers("Asia/Tokyo")
    assert text.count("BEGIN:STANDARD") == 1 and "DAYLIGHT" not in text
    assert "TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900" in text
