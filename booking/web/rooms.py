"""Site and room pages with a week calendar, and the city's open offers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from booking import domain
from booking.extensions import db
from booking.input_guard import FIRST_YEAR, LAST_YEAR, page_number
from booking.languages import SPOKEN_LANGUAGES
from booking.models import OfferAudience, OfferCategory, Site
from booking.services import queries, room_context, search, visibility
from booking.services.search import room_week, week_start
from booking.web import bp
from booking.web.forms import WEEKDAYS
from booking.web.i18n import offer_audience_label, offer_category_label, spoken_language_name

SUGGESTED_LENGTH = timedelta(hours=2)


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(text: str) -> date:
    """The Monday of ``YYYY-Www``; ValueError for anything else, and for a year no booking lies
    in (the calendar's edges overflow when its neighbour weeks and time zones are worked out)."""
    year, _sep, week = text.partition("-W")
    if not (year.isdigit() and week.isdigit() and len(year) == 4 and 1 <= len(week) <= 2):
        raise ValueError(text)
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:
        raise ValueError(text)
    return date.fromisocalendar(int(year), int(week), 1)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def opening_rows(hours: domain.OpeningHours | None) -> list[tuple[str, str]] | None:
    """Weekday name and its windows as text; None means open at any time."""
    if hours is None or hours.windows == domain.ALWAYS_OPEN_WEEK:  # (but for dated exceptions)
        return None
    rows = []
    for weekday, label in WEEKDAYS:
        windows = [w for w in hours.windows if w.weekday == weekday]
        text = ", ".join(f"{_hhmm(w.opens)}–{_hhmm(w.closes)}" for w in windows)
        rows.append((str(label), text or _("closed")))
    return rows


def free_slot_link(free: domain.Slot, zone: ZoneInfo, now: datetime) -> dict[str, str] | None:
    """Booking-form arguments for a free time: from its start (or now), two hours at most."""
    start = max(free.starts_at, now)
    minute = timedelta(minutes=(-domain.to_local(start, zone).minute) % 15)
    start = (start + minute).replace(second=0, microsecond=0)  # the next quarter hour
    end = min(free.ends_at, start + SUGGESTED_LENGTH)
    local_start, local_end = domain.to_local(start, zone), domain.to_local(end, zone)
    if end <= start or local_end.date() != local_start.date():
        return None
    return {
        "date": local_start.date().isoformat(),
        "start": local_start.strftime("%H:%M"),
        "end": local_end.strftime("%H:%M"),
    }


def free_parts(
    free: domain.Slot, zone: ZoneInfo, now: datetime
) -> list[tuple[str, datetime, datetime]]:
    """A free time as ``("past" | "free", local start, local end)`` parts: what is over by now is
    past, not free; the free part starts at the next quarter hour, as its booking link does."""
    start, end = domain.to_local(free.starts_at, zone), domain.to_local(free.ends_at, zone)
    if free.ends_at <= now:
        return [("past", start, end)]
    if free.starts_at >= now:
        return [("free", start, end)]
    local_now = domain.to_local(now, zone).replace(second=0, microsecond=0)
    cut = local_now + timedelta(minutes=(-local_now.minute) % 15)
    return [("past", start, cut)] + ([("free", cut, end)] if cut < end else [])


def _site_or_404(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or not site.active:
        abort(404)
    return site


@bp.get("/sites/<int:site_id>")
def site(site_id: int):
    site = _site_or_404(site_id)
    rooms = [r for r in site.rooms if r.active]
    hours = None
    if site.opening_windows:
        hours = domain.OpeningHours(
            tuple(domain.WeeklyWindow(w.weekday, w.opens, w.closes) for w in site.opening_windows)
        )
    return render_template(
        "web/site.html",
        site=site,
        rooms=rooms,
        hours=opening_rows(hours),
        manages=visibility.viewer(current_user).manages(site.id),
    )


@bp.get("/rooms/<int:room_id>")
def room(room_id: int):
    room = room_context.active_room(room_id)
    zone = ZoneInfo(room.site.timezone)
    now = datetime.now(UTC)
    today = domain.to_local(now, zone).date()
    week = request.args.get("week")
    if week:
        try:
            monday = parse_iso_week(week)
        except ValueError:
            abort(400, description=_("Please give the week as YYYY-Www, for example 2026-W48."))
    else:
        monday = week_start(today)
    calendar = room_week(room, monday, user=current_user)
    return render_template(
        "web/room.html",
        room=room,
        site=room.site,
        week=calendar,
        today=today,
        book_args=lambda free: free_slot_link(free, zone, now),
        free_parts=lambda free: free_parts(free, zone, now),
        this_week=iso_week(monday),
        prev_week=iso_week(calendar.previous_week),
        next_week=iso_week(calendar.next_week),
        week_end=monday + timedelta(days=6),
        hours=opening_rows(room_context.facts(room.id).rules.opening),
        parts=[p for p in room.parts if p.active],
    )


def _offer_filters() -> tuple[dict, dict[str, str]]:
    """The offers' filters from the query string (q, district, from, to, accessible, category,
    audience, language, free, drop_in) and what is wrong with them, by field: the list page and
    the embeddable list read them alike."""
    district = request.args.get("district", "")
    errors: dict[str, str] = {}
    if district and district not in queries.districts():
        errors["district"] = _("There is no such district.")
    bounds: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = request.args.get(name, "").strip()
        bounds[name] = None
        if text:
            try:
                # Far-away bounds mean "no bound": the calendar's edges would overflow.
                bounds[name] = min(
                    max(date.fromisoformat(text), date(FIRST_YEAR, 1, 1)), date(LAST_YEAR, 12, 31)
                )
            except ValueError:
                errors[name] = _("Please give a date like 2026-12-01.")
    if bounds["from"] and bounds["to"] and bounds["to"] < bounds["from"]:
        errors["to"] = _("The end date must not be before the start date.")
    q = request.args.get("q", "")
    if len(q.strip()) > search.WORDS_MAX:
        errors["q"] = _("Please enter at most %(max)d characters.", max=search.WORDS_MAX)
    offer = {}
    for name, allowed in (
        ("category", {c.value for c in OfferCategory}),
        ("audience", {a.value for a in OfferAudience}),
        ("language", set(SPOKEN_LANGUAGES)),
    ):
        value = request.args.get(name, "")
        if value and value not in allowed:
            errors[name] = _("Please choose one from the list.")
        offer[name] = value or None
    checked = ("1", "y", "on", "true")
    filters = {
        "offer": search.OfferFilter(
            **offer,
            free=request.args.get("free") in checked,
            drop_in=request.args.get("drop_in") in checked,
        ),
        "district": district or None,
        "date_from": bounds["from"],
        "date_to": bounds["to"],
        "q": q,
        "accessible": request.args.get("accessible") in checked,
        "zone": ZoneInfo(current_app.config["BOOKING_TIMEZONE"]),
    }
    return filters, errors


@bp.get("/offers")
def offers():
    filters, errors = _offer_filters()
    page = None
    if not errors:
        page = queries.open_offers(page=page_number(), **filters)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return (
        render_template(
            "web/offers.html",
            page=page,
            districts=queries.districts(),
            district=request.args.get("district", ""),
            q=filters["q"],
            accessible=filters["accessible"],
            offer=filters["offer"],
            categories=[(c.value, offer_category_label(c)) for c in OfferCategory],
            audiences=[(a.value, offer_audience_label(a)) for a in OfferAudience],
            spoken=[(code, spoken_language_name(code)) for code in SPOKEN_LANGUAGES],
            date_from=request.args.get("from", ""),
            date_to=request.args.get("to", ""),
            errors=errors,
            args=args,
        ),
        422 if errors else 200,
    )


EMBED_DEFAULT, EMBED_MAX = 10, 50


@bp.get("/embed/offers")
def embed_offers():
    """The next open offers as a small page for other sites to frame (the city portal, a
    district newsletter): ``district``, ``from``, ``to`` as on /offers, ``limit`` (1-50, 10 by
    default), ``q``, ``accessible``, ``lang``. Links open the offer's page here, in a new tab."""
    filters, errors = _offer_filters()
    limit = request.args.get("limit", "").strip()
    if not limit:
        per_page = EMBED_DEFAULT
    elif limit.isascii() and limit.isdigit() and len(limit) <= 2 and 1 <= int(limit) <= EMBED_MAX:
        per_page = int(limit)
    else:
        errors["limit"] = _("Give a number from 1 to %(max)d.", max=EMBED_MAX)
    page = None if errors else queries.open_offers(per_page=per_page, **filters)
    shared = ("q", "district", "from", "to", "accessible", "category", "audience", "language")
    shared += ("free", "drop_in")
    args = {k: v for k, v in request.args.items() if k in shared and v}
    return render_template("embed/offers.html", page=page, errors=errors, args=args), (
        422 if errors else 200
    )


@bp.get("/offers/<int:booking_id>")
def offer(booking_id: int):
    """One open offer, to share: what, who, where (with the room's accessibility) and when."""
    found = queries.open_offer(booking_id)
    listed = found.booking.organisation is not None and found.booking.organisation.listed
    return render_template("web/offer.html", offer=found, listed=listed)
