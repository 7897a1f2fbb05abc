"""Closures: periods when a site or room cannot be booked, and their import from iCalendar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from booking.database import begin_write
from booking.domain import from_local
from booking.extensions import db
from booking.models import Closure, Site
from booking.services import permissions
from booking.services.errors import N_, InvalidRequest, NotPermitted


@dataclass(frozen=True)
class ImportedPeriod:
    uid: str
    reason: str
    first_day: date
    last_day: date  # inclusive


def parse_ics_periods(data: bytes) -> list[ImportedPeriod]:
    """All-day (or timed) events of an iCalendar file as whole local days.

    DTEND of an all-day event is exclusive (RFC 5545), so a one-day holiday has DTEND = next day.
    """
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise InvalidRequest(
            N_("This is not a readable iCalendar file."),
            "file",
            code="ics_unreadable",
            detail=f"This is not a readable iCalendar file ({exc}).",
        ) from exc
    periods = []
    for event in calendar.walk("VEVENT"):
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND") if "DTEND" in event else None
        first = start.date() if isinstance(start, datetime) else start
        if end is None:
            last = first
        elif isinstance(end, datetime):
            last = end.date() if end.time() != time(0) else end.date() - timedelta(days=1)
        else:
            last = end - timedelta(days=1)
        last = max(last, first)
        uid = str(event.get("UID") or f"{first.isoformat()}-{event.get('SUMMARY')}")
        periods.append(ImportedPeriod(uid, str(event.get("SUMMARY", "")).strip(), first, last))
    return sorted(periods, key=lambda p: p.first_day)


def import_periods(
    user,
    site_ids: Sequence[int],
    periods: Sequence[ImportedPeriod],
    *,
    since: date | None = None,
    until: date | None = None,
) -> int:
    """Create or update one closure per period and site; re-importing changes nothing twice.

    Returns the number of closures created or changed.
    """
    for site_id in site_ids:
        if not permissions.can_manage_site(user, site_id):
            raise NotPermitted(N_("You can only add closures to sites you manage."))
    begin_write()
    changed = 0
    sites = db.session.scalars(select(Site).where(Site.id.in_(site_ids))).all()
    for site in sites:
        zone = ZoneInfo(site.timezone)
        existing = {
            c.source_uid: c
            for c in db.session.scalars(
                select(Closure).where(
                    Closure.site_id == site.id,
                    Closure.room_id.is_(None),
                    Closure.source_uid.is_not(None),
                )
            )
        }
        for period in periods:
            if (since and period.last_day < since) or (until and period.first_day > until):
                continue
            starts_at = from_local(datetime.combine(period.first_day, time(0)), zone)
            ends_at = from_local(
                datetime.combine(period.last_day + timedelta(days=1), time(0)), zone
            )
            reason = period.reason[:200] or "Closed"
            closure = existing.get(period.uid)
            if closure is None:
                db.session.add(
                    Closure(
                        site_id=site.id,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        reason=reason,
                        source_uid=period.uid,
                    )
                )
                changed += 1
            elif (closure.starts_at, closure.ends_at, closure.reason) != (
                starts_at,
                ends_at,
                reason,
            ):
                closure.starts_at, closure.ends_at, closure.reason = starts_at, ends_at, reason
                changed += 1
    db.session.flush()
    return changed
