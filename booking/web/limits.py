"""The room's limits on the booking form: stated next to the fields they concern (as the
fields' hints, tied to them with aria-describedby by the form macros), and a broken limit
marked as an error on its field, not only as a row of the preview.

Which field a limit concerns: the capacity the number of people, the notice and how far ahead
the date (a series' later dates too far ahead: its end), the shortest and longest booking the
end time, the opening hours the start time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext

from booking import domain
from booking.models import Room
from booking.services import room_context
from booking.services.requests import BookingPlan
from booking.web.forms import BookingForm
from booking.web.helpers import fmt_date, fmt_time
from booking.web.rooms import opening_rows


def span_text(span: timedelta) -> str:
    """A notice, advance or duration in words: "2 days", "8 weeks", "90 minutes"."""
    minutes = int(span.total_seconds() // 60)
    if minutes and minutes % (7 * 24 * 60) == 0:
        weeks = minutes // (7 * 24 * 60)
        return ngettext("%(num)d week", "%(num)d weeks", weeks)
    if minutes and minutes % (24 * 60) == 0:
        return ngettext("%(num)d day", "%(num)d days", minutes // (24 * 60))
    if minutes and minutes % 60 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", minutes // 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def hours_text(hours: domain.OpeningHours | None) -> str | None:
    """The weekly opening hours in one line, equal neighbouring days joined: "Monday–Friday
    08:00–22:00; Saturday closed; ..."; None when the room can be booked at any time."""
    rows = opening_rows(hours)
    if rows is None:
        return None
    groups: list[list] = []
    for day, text in rows:
        if groups and groups[-1][2] == text:
            groups[-1][1] = day
        else:
            groups.append([day, day, text])
    return "; ".join(
        f"{first} {text}" if first == last else f"{first}–{last} {text}"
        for first, last, text in groups
    )


def _rules(room: Room) -> domain.RoomRules:
    return room_context.facts(room.id).rules


def describe(form: BookingForm, room: Room, *, now: datetime | None = None) -> None:
    """Put the room's limits next to the fields they concern, as the fields' hints."""
    rules = _rules(room)
    form.attendees.description = _("This room holds up to %(num)d people.", num=rules.capacity)
    date_hints = []
    if rules.min_lead > timedelta(0):
        date_hints.append(_("Book at least %(span)s ahead.", span=span_text(rules.min_lead)))
    if rules.max_advance is not None:
        last = (now or datetime.now(UTC)) + rules.max_advance
        date_hints.append(
            _(
                "Dates can be booked at most %(span)s ahead (until %(last)s).",
                span=span_text(rules.max_advance),
                last=fmt_date(domain.to_local(last, room_context.facts(room.id).zone), "medium"),
            )
        )
    form.date.description = " ".join(date_hints) or None
    hours = hours_text(rules.opening)
    form.start.description = _("Opening hours: %(hours)s.", hours=hours) if hours else None
    if rules.min_duration is not None and rules.max_duration is not None:
        form.end.description = _(
            "A booking lasts at least %(min)s and at most %(max)s.",
            min=span_text(rules.min_duration),
            max=span_text(rules.max_duration),
        )
    elif rules.min_duration is not None:
        form.end.description = _(
            "A booking lasts at least %(min)s.", min=span_text(rules.min_duration)
        )
    elif rules.max_duration is not None:
        form.end.description = _(
            "A booking lasts at most %(max)s.", max=span_text(rules.max_duration)
        )


def _add(field, message: str) -> None:
    if message not in field.errors:
        field.errors = [*field.errors, message]


def mark(form: BookingForm, plan: BookingPlan) -> bool:
    """Mark each broken limit on its field; whether any was. Rows of the preview stay."""
    if not plan.dates:
        return False
    rules, zone = plan.context.rules, plan.zone
    first = plan.dates[0]
    reasons = [set(d.reasons) for d in plan.dates]
    marked = False
    if domain.Reason.OVER_CAPACITY.value in reasons[0]:
        _add(form.attendees, _("This room holds at most %(num)d people.", num=rules.capacity))
        marked = True
    if domain.Reason.IN_PAST.value in reasons[0]:
        _add(form.date, _("This time is in the past. Please choose a later date."))
        marked = True
    elif domain.Reason.TOO_SHORT_NOTICE.value in reasons[0]:
        _add(
            form.date,
            _(
                "This room must be booked at least %(span)s ahead. Please choose a later date.",
                span=span_text(rules.min_lead),
            ),
        )
        marked = True
    too_far = [d for d, r in zip(plan.dates, reasons, strict=True) if "too_far_ahead" in r]
    if too_far and rules.max_advance is not None:
        last = datetime.now(UTC) + rules.max_advance  # as the plan was checked, a moment ago
        last_text = fmt_date(domain.to_local(last, zone), "medium")
        if too_far[0] is first:
            _add(
                form.date,
                _(
                    "This room can be booked at most %(span)s ahead, until %(last)s.",
                    span=span_text(rules.max_advance),
                    last=last_text,
                ),
            )
        else:
            field = form.count if form.limit.data == "count" else form.until
            _add(
                field,
                ngettext(
                    "The last date is more than %(span)s ahead (after %(last)s) and cannot be "
                    "booked yet.",
                    "The last %(num)d dates are more than %(span)s ahead (after %(last)s) and "
                    "cannot be booked yet.",
                    len(too_far),
                    span=span_text(rules.max_advance),
                    last=last_text,
                ),
            )
        marked = True
    if domain.Reason.TOO_SHORT.value in reasons[0] and rules.min_duration is not None:
        _add(
            form.end,
            _("A booking of this room lasts at least %(min)s.", min=span_text(rules.min_duration)),
        )
        marked = True
    if domain.Reason.TOO_LONG.value in reasons[0] and rules.max_duration is not None:
        _add(
            form.end,
            _("A booking of this room lasts at most %(max)s.", max=span_text(rules.max_duration)),
        )
        marked = True
    outside = domain.Reason.OUTSIDE_OPENING_HOURS.value
    if outside in reasons[0] and all(outside in r for r in reasons):
        hours = hours_text(rules.opening)
        message = _(
            "%(start)s–%(end)s is outside the opening hours.",
            start=fmt_time(first.local_start),
            end=fmt_time(first.local_end),
        )
        if hours:
            message = f"{message} {_('Opening hours: %(hours)s.', hours=hours)}"
        _add(form.start, message)
        marked = True
    return marked
