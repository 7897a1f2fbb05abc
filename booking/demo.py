"""Realistic demo data for Iserlohn: sites, rooms, organisations, people and bookings.

The data lives in ``booking/data/demo.toml`` so city staff can adapt it; this module loads it.
Everything goes through the models and the same services the web and API use, so demo bookings
obey the same rules as real ones. Running it again adds nothing twice.
"""

from __future__ import annotations

import random
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from booking.domain import Frequency, Recurrence
from booking.extensions import db
from booking.models import (
    ApprovalPolicy,
    Booking,
    Feature,
    MemberRole,
    Membership,
    OpeningWindow,
    Organisation,
    OrganisationKind,
    Room,
    Site,
    SiteKind,
    User,
)
from booking.models.mail import OutboxMessage
from booking.services import bookings as booking_service
from booking.services import closures as closure_service
from booking.services.accounts import upsert_user
from booking.services.errors import Conflict, ServiceError

DEMO_PASSWORD = "raumboerse-demo"  # noqa: S105 - documented in the README; every demo account uses it
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

Data = dict[str, Any]


def _load() -> Data:
    with resources.files("booking.data").joinpath("demo.toml").open("rb") as file:
        return tomllib.load(file)


def seed_demo(today: date | None = None, log=print) -> dict[str, int]:
    """Create the demo data; returns counts of what was added."""
    today = today or datetime.now(UTC).date()
    data = _load()
    counts = {"sites": 0, "rooms": 0, "organisations": 0, "users": 0, "bookings": 0, "closures": 0}
    organisations = _organisations(data, counts)
    users = _people(data, organisations, counts)
    sites = _sites(data, users, counts)
    db.session.flush()
    admin = users["admin@example.org"]
    counts["closures"] = _closures(data, admin, sites)
    db.session.commit()
    demo_ids = [u.id for u in users.values()]
    already = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.requested_by_id.in_(demo_ids))
    )
    if already:
        log(f"Demo bookings exist already ({already}); not adding more.")
    else:
        before = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        counts["bookings"] = _bookings(data, today, organisations, users, log)
        # The demo goes through the real services, which queue "booking received" mails; nobody
        # asked for those, so they must not go out when a mail server is configured later.
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > before))
        db.session.commit()
    return counts


def _organisations(data: Data, counts) -> dict[str, Organisation]:
    found = {}
    for spec in data["organisations"]:
        name, district = spec["name"], spec["district"]
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None:
            org = Organisation(
                name=name,
                kind=OrganisationKind(spec["kind"]),
                district=district,
                trusted=spec["trusted"],
                description=data["organisation_description"].format(name=name, district=district),
                listed=spec.get("listed", False),
            )
            db.session.add(org)
            counts["organisations"] += 1
        found[name] = org
    db.session.flush()
    return found


def _people(data: Data, organisations, counts) -> dict[str, User]:
    found = {}
    for spec in data["users"]:
        email = spec["email"]
        existed = db.session.scalar(select(User.id).where(User.email == email)) is not None
        user = upsert_user(
            email=email,
            name=spec["name"],
            password=None if existed else DEMO_PASSWORD,
            admin=spec["admin"],
        )
        user.language = spec["language"]
        counts["users"] += 0 if existed else 1
        for org_name in spec["organisations"]:
            org = organisations[org_name]
            if not any(m.organisation_id == org.id for m in user.memberships):
                user.memberships.append(Membership(organisation=org, role=MemberRole.ADMIN))
        found[email] = user
    db.session.flush()
    return found


def _sites(data: Data, users, counts) -> dict[str, Site]:
    found = {}
    for spec in data["sites"]:
        site = db.session.scalar(select(Site).where(Site.name == spec["name"]))
        if site is None:
            site = Site(
                name=spec["name"],
                kind=SiteKind(spec["kind"]),
                district=spec["district"],
                street=spec["street"],
                postcode=spec["postcode"],
                city=data["city"],
                timezone=current_app.config["BOOKING_TIMEZONE"],
                description=spec.get("description", ""),
                contact_email=spec.get("contact", ""),
            )
            db.session.add(site)
            db.session.flush()
            hours = data["opening_hours"][spec["opening_hours"]]
            for day, windows in hours.items():
                for window in windows:
                    opens, closes = (_minutes(text) for text in window.split("-"))
                    db.session.add(
                        OpeningWindow(
                            site_id=site.id,
                            weekday=WEEKDAYS.index(day),
                            opens=opens,
                            closes=closes,
                        )
                    )
            counts["sites"] += 1
        for email in spec.get("managers", []):
            if users[email] not in site.managers:
                site.managers.append(users[email])
        for room_spec in spec["rooms"]:
            _room(data, site, room_spec, None, counts)
        found[spec["name"]] = site
    return found


def _room(data: Data, site: Site, spec: Data, parent: Room | None, counts) -> Room:
    room = db.session.scalar(select(Room).where(Room.site_id == site.id, Room.name == spec["name"]))
    if room is None:
        # A misspelt key would otherwise fall back to the default without a word.
        unknown = spec.keys() - data["room_defaults"].keys() - {"name", "capacity", "parts"}
        if unknown:
            raise ValueError(f"demo.toml: room {spec['name']!r} has unknown keys {sorted(unknown)}")
        values = data["room_defaults"] | spec
        unlisted = set(values["features"]) - set(db.session.scalars(select(Feature.key)))
        if unlisted:
            raise ValueError(
                f"demo.toml: room {spec['name']!r} has unknown features {sorted(unlisted)}"
            )
        rules = values["house_rules"]
        room = Room(
            site=site,
            parent=parent,
            name=values["name"],
            capacity=values["capacity"],
            description=values["description"],
            house_rules=data["house_rules"][rules] if rules else "",
            step_free=values["step_free"],
            accessible_toilet=values["accessible_toilet"],
            hearing_loop=values["hearing_loop"],
            approval_policy=ApprovalPolicy(values["policy"]),
            buffer_after_minutes=values["buffer_after_minutes"],
            min_lead_minutes=values["min_lead_minutes"],
            max_advance_days=values["max_advance_days"],
        )
        room.features = values["features"]
        db.session.add(room)
        counts["rooms"] += 1
    db.session.flush()
    for part in spec.get("parts", []):
        _room(data, site, part, room, counts)
    return room


def _closures(data: Data, admin: User, sites: dict[str, Site]) -> int:
    files = resources.files("booking.data")
    public = closure_service.parse_ics_periods(
        files.joinpath(data["closures"]["all_sites"]).read_bytes()
    )
    school = closure_service.parse_ics_periods(
        files.joinpath(data["closures"]["school_sites"]).read_bytes()
    )
    all_ids = [s.id for s in sites.values()]
    school_ids = [sites[spec["name"]].id for spec in data["sites"] if spec.get("school_holidays")]
    changed = closure_service.import_periods(admin, all_ids, public)
    changed += closure_service.import_periods(admin, school_ids, school)
    return changed


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _minutes(text: str) -> int:
    """Minutes since midnight of "HH:MM"; "24:00" closes at midnight."""
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _bookings(data: Data, today: date, organisations, users, log) -> int:
    """A school year's worth: weekly series from some weeks ago, one-offs around today."""
    plan = data["bookings"]
    rng = random.Random(plan["seed"])  # noqa: S311 (demo data, not security)
    members = {}
    for spec in data["users"]:
        for org in spec["organisations"]:
            members.setdefault(org, users[spec["email"]])
    season_start = today - timedelta(weeks=plan["weeks_before"])
    season_end = today + timedelta(weeks=plan["weeks_after"])
    # Bookings "made" in the past pass the lead-time rules as they did then.
    made_at = datetime.combine(season_start - timedelta(days=7), time(9), tzinfo=UTC)
    created = 0
    rooms = {(r.site.name, r.name): r for r in db.session.scalars(select(Room))}
    for series in data["series"]:
        room = rooms[(series["site"], series["room"])]
        title, weekday = series["title"], WEEKDAYS.index(series["weekday"])
        first = season_start + timedelta(days=(weekday - season_start.weekday()) % 7)
        start_at = datetime.combine(first, _hm(series["start"]))
        command = booking_service.BookingCommand(
            room_id=room.id,
            title=title,
            start=start_at,
            end=start_at + timedelta(minutes=series["minutes"]),
            organisation_id=organisations[series["organisation"]].id,
            description=plan["series_description"].format(title=title),
            attendees=min(room.capacity, plan["series_attendees"]),
            is_public=series["public"],
            offer_category=series.get("category"),
            offer_audience=series.get("audience"),
            offer_languages=tuple(series.get("languages", ())),
            free_of_charge=series.get("free", False),
            drop_in=series.get("drop_in", False),
            recurrence=Recurrence(
                Frequency.WEEKLY,
                byweekday=(weekday,),
                until=season_end,
                skip_closures=room.site.kind is SiteKind.SCHOOL,
            ),
            book_free_dates_only=True,
            house_rules_accepted=True,
        )
        try:
            booking = booking_service.request_booking(
                members[series["organisation"]], command, now=made_at
            )
        except ServiceError as exc:
            log(f"skipped series {title!r}: {exc.message}")
            continue
        created += 1
        _decide(plan, booking, users, rng, made_at)
    bookable = [
        r for r in rooms.values() if r.parent_id is None or rng.random() < plan["part_share"]
    ]
    requesters = [(org, members[org]) for org in members]
    first_day, last_day = plan["one_off_days"]
    fewest, most = plan["one_off_attendees"]
    for _ in range(plan["one_off_attempts"]):
        room = rng.choice(bookable)
        org_name, user = rng.choice(requesters)
        day = today + timedelta(days=rng.randint(first_day, last_day))
        start_at = datetime.combine(day, time(rng.choice(plan["one_off_start_hours"]), 0))
        command = booking_service.BookingCommand(
            room_id=room.id,
            title=rng.choice(plan["one_off_titles"]),
            start=start_at,
            end=start_at + timedelta(minutes=rng.choice(plan["one_off_minutes"])),
            organisation_id=organisations[org_name].id,
            attendees=rng.randint(fewest, max(fewest, min(room.capacity, most))),
            is_public=rng.random() < plan["one_off_public_share"],
            house_rules_accepted=True,
        )
        try:
            booking = booking_service.request_booking(user, command, now=made_at)
        except (Conflict, ServiceError):
            continue  # taken, closed or outside opening hours: a real requester would pick again
        created += 1
        _decide(plan, booking, users, rng, made_at)
    db.session.commit()
    log(f"Added {created} bookings.")
    return created


def _decide(plan: Data, booking: Booking, users, rng: random.Random, now: datetime) -> None:
    """Managers have answered most requests; a few wait, a few were declined or cancelled."""
    db.session.commit()
    pending = [o.id for o in booking.occurrences if o.status.value == "pending"]
    manager = next(iter(booking.room.site.managers), users["admin@example.org"])
    roll = rng.random()
    try:
        if pending and roll < plan["approve_below"]:
            booking_service.approve(manager, booking.id, now=now)
        elif pending and roll < plan["decline_below"]:
            booking_service.decline(manager, booking.id, plan["decline_reason"], now=now)
        if len(booking.occurrences) > 3 and rng.random() < plan["cancel_share"]:
            victim = booking.occurrences[rng.randrange(len(booking.occurrences))]
            if victim.status.value in ("pending", "approved"):
                booking_service.cancel(
                    booking.requested_by,
                    booking.id,
                    [victim.id],
                    plan["cancel_reason"],
                    now=now,
                )
    except ServiceError:
        db.session.rollback()
        return
    db.session.commit()
