"""Realistic demo data for Iserlohn: sites, rooms, organisations, people and bookings.

Everything goes through the models and the same services the web and API use, so demo bookings
obey the same rules as real ones. Running it again adds nothing twice.
Addresses and names are illustrative, modelled on Iserlohn's districts and public buildings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources

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
F = Feature

SCHOOL_HOURS = {d: [(16 * 60, 22 * 60)] for d in range(5)} | {5: [(9 * 60, 18 * 60)]}
HOUSE_HOURS = {d: [(8 * 60, 22 * 60)] for d in range(7)}
LIBRARY_HOURS = {d: [(10 * 60, 19 * 60)] for d in range(1, 5)} | {5: [(10 * 60, 14 * 60)]}
VHS_HOURS = {d: [(8 * 60, 22 * 60)] for d in range(5)} | {5: [(9 * 60, 16 * 60)]}
YOUTH_HOURS = {d: [(14 * 60, 22 * 60)] for d in range(5)} | {5: [(12 * 60, 20 * 60)]}
CHURCH_HOURS = {d: [(9 * 60, 22 * 60)] for d in range(6)}
SENIOR_HOURS = {d: [(9 * 60, 18 * 60)] for d in range(7)}

GYM_RULES = (
    "Nur mit sauberen Hallenschuhen betreten. Geräte nach der Nutzung zurückräumen. "
    "Die Halle ist bis zum Ende der Buchungszeit besenrein zu verlassen."
)
SCHOOL_RULES = (
    "Schuleigentum pfleglich behandeln. Tische und Stühle wie vorgefunden zurückstellen. "
    "Kein Alkohol auf dem Schulgelände."
)
HOUSE_RULES = "Nach der Nutzung lüften, Müll mitnehmen, Küche sauber hinterlassen. Ruhe ab 22 Uhr."


@dataclass
class RoomSpec:
    name: str
    capacity: int
    features: tuple[Feature, ...] = ()
    step_free: bool = True
    accessible_toilet: bool = False
    hearing_loop: bool = False
    policy: ApprovalPolicy = ApprovalPolicy.MANUAL
    rules: str = ""
    description: str = ""
    buffer_after: int = 0
    min_lead_minutes: int = 24 * 60
    parts: tuple[RoomSpec, ...] = ()


@dataclass
class SiteSpec:
    name: str
    kind: SiteKind
    district: str
    street: str
    postcode: str
    hours: dict[int, list[tuple[int, int]]]
    rooms: tuple[RoomSpec, ...]
    description: str = ""
    contact: str = ""
    school_holidays: bool = False
    managers: tuple[str, ...] = field(default=())


SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        "Stadtbücherei Iserlohn",
        SiteKind.LIBRARY,
        "Innenstadt",
        "Alter Rathausplatz 1",
        "58636",
        LIBRARY_HOURS,
        (
            RoomSpec(
                "Gruppenraum 1",
                8,
                (F.WHITEBOARD, F.WIFI, F.TABLES_CHAIRS),
                accessible_toilet=True,
                policy=ApprovalPolicy.AUTOMATIC,
                min_lead_minutes=60,
                description="Ruhiger Raum für Lerngruppen und kleine Treffen.",
            ),
            RoomSpec(
                "Gruppenraum 2",
                10,
                (F.SCREEN, F.WIFI, F.TABLES_CHAIRS),
                accessible_toilet=True,
                policy=ApprovalPolicy.AUTOMATIC,
                min_lead_minutes=60,
            ),
            RoomSpec(
                "Veranstaltungssaal",
                80,
                (F.PROJECTOR, F.SCREEN, F.SOUND_SYSTEM, F.WIFI, F.TABLES_CHAIRS),
                accessible_toilet=True,
                hearing_loop=True,
                rules="Veranstaltungen müssen öffentlich zugänglich sein.",
                buffer_after=30,
            ),
            RoomSpec(
                "Makerspace",
                12,
                (F.COMPUTERS, F.WIFI, F.TABLES_CHAIRS),
                accessible_toilet=True,
                policy=ApprovalPolicy.TRUSTED,
            ),
        ),
        description="Die Stadtbücherei als Treffpunkt mitten in der Stadt.",
        contact="bibliothek@example.org",
        managers=("bibliothek@example.org",),
    ),
    SiteSpec(
        "Volkshochschule Iserlohn",
        SiteKind.ADULT_EDUCATION,
        "Innenstadt",
        "Theodor-Heuss-Ring 24",
        "58636",
        VHS_HOURS,
        (
            RoomSpec(
                "Seminarraum 1.12",
                20,
                (F.PROJECTOR, F.WHITEBOARD, F.WIFI, F.TABLES_CHAIRS),
                accessible_toilet=True,
            ),
            RoomSpec(
                "Seminarraum 1.14",
                24,
                (F.PROJECTOR, F.FLIPCHART, F.WIFI, F.TABLES_CHAIRS),
                accessible_toilet=True,
            ),
            RoomSpec(
                "Lehrküche", 14, (F.KITCHEN, F.TABLES_CHAIRS), rules=HOUSE_RULES, buffer_after=30
            ),
            RoomSpec("EDV-Raum", 16, (F.COMPUTERS, F.PROJECTOR, F.WIFI), step_free=False),
        ),
        contact="vhs@example.org",
        managers=("vhs@example.org",),
    ),
    SiteSpec(
        "Gymnasium An der Stenner",
        SiteKind.SCHOOL,
        "Innenstadt",
        "Stennerstraße 12",
        "58636",
        SCHOOL_HOURS,
        (
            RoomSpec(
                "Dreifachturnhalle",
                300,
                (F.SPORTS_FLOOR, F.CHANGING_ROOMS, F.SHOWERS, F.SOUND_SYSTEM),
                accessible_toilet=True,
                rules=GYM_RULES,
                buffer_after=15,
                description="Teilbar in drei Hallenteile (A, B, C).",
                parts=(
                    RoomSpec(
                        "Hallenteil A",
                        60,
                        (F.SPORTS_FLOOR, F.CHANGING_ROOMS, F.SHOWERS),
                        rules=GYM_RULES,
                        buffer_after=15,
                    ),
                    RoomSpec(
                        "Hallenteil B",
                        60,
                        (F.SPORTS_FLOOR, F.CHANGING_ROOMS, F.SHOWERS),
                        rules=GYM_RULES,
                        buffer_after=15,
                    ),
                    RoomSpec(
                        "Hallenteil C",
                        60,
                        (F.SPORTS_FLOOR, F.CHANGING_ROOMS, F.SHOWERS, F.MIRRORS),
                        rules=GYM_RULES,
                        buffer_after=15,
                    ),
                ),
            ),
            RoomSpec(
                "Musikraum",
                35,
                (F.PIANO, F.SOUND_SYSTEM, F.TABLES_CHAIRS),
                step_free=False,
                rules=SCHOOL_RULES,
            ),
            RoomSpec(
                "Aula",
                400,
                (F.STAGE, F.SOUND_SYSTEM, F.PROJECTOR, F.PIANO, F.DARKENING),
                accessible_toilet=True,
                rules=SCHOOL_RULES,
                buffer_after=60,
            ),
        ),
        school_holidays=True,
        contact="sekretariat.stenner@example.org",
        managers=("hausmeister.stenner@example.org",),
    ),
    SiteSpec(
        "Gesamtschule Seilersee",
        SiteKind.SCHOOL,
        "Nußberg",
        "Am Seilersee 2",
        "58636",
        SCHOOL_HOURS,
        (
            RoomSpec(
                "Sporthalle",
                120,
                (F.SPORTS_FLOOR, F.CHANGING_ROOMS, F.SHOWERS),
                accessible_toilet=True,
                rules=GYM_RULES,
                buffer_after=15,
            ),
            RoomSpec("Musikraum", 30, (F.PIANO, F.SOUND_SYSTEM), rules=SCHOOL_RULES),
            RoomSpec(
                "Forum",
                250,
                (F.STAGE, F.SOUND_SYSTEM, F.PROJECTOR),
                accessible_toilet=True,
                hearing_loop=True,
                rules=SCHOOL_RULES,
                buffer_after=60,
            ),
            RoomSpec(
                "Mensa",
                150,
                (F.KITCHEN, F.TABLES_CHAIRS),
                accessible_toilet=True,
                rules=SCHOOL_RULES,
            ),
        ),
        school_holidays=True,
        contact="gesamtschule@example.org",
        managers=("hausmeister.seilersee@example.org",),
    ),
    SiteSpec(
        "Realschule Letmathe",
        SiteKind.SCHOOL,
        "Letmathe",
        "Hagener Straße 40",
        "58642",
        SCHOOL_HOURS,
        (
            RoomSpec(
                "Turnhalle",
                80,
                (F.SPORTS_FLOOR, F.CHANGING_ROOMS),
                step_free=False,
                rules=GYM_RULES,
                buffer_after=15,
            ),
            RoomSpec("Musikraum", 30, (F.PIANO, F.TABLES_CHAIRS), rules=SCHOOL_RULES),
            RoomSpec("Aula", 200, (F.STAGE, F.SOUND_SYSTEM), rules=SCHOOL_RULES, buffer_after=60),
            RoomSpec("Lehrküche", 16, (F.KITCHEN,), rules=SCHOOL_RULES, buffer_after=30),
        ),
        school_holidays=True,
        managers=("hausmeister.letmathe@example.org",),
    ),
    SiteSpec(
        "Grundschule Sümmern",
        SiteKind.SCHOOL,
        "Sümmern",
        "Schulstraße 5",
        "58640",
        SCHOOL_HOURS,
        (
            RoomSpec(
                "Turnhalle",
                60,
                (F.SPORTS_FLOOR, F.CHANGING_ROOMS),
                rules=GYM_RULES,
                buffer_after=15,
            ),
            RoomSpec("Musikraum", 25, (F.PIANO,), rules=SCHOOL_RULES),
            RoomSpec("Pausenhalle", 120, (F.SOUND_SYSTEM, F.TABLES_CHAIRS), rules=SCHOOL_RULES),
        ),
        school_holidays=True,
        managers=("hausmeister.letmathe@example.org",),
    ),
    SiteSpec(
        "Ortsteilhaus Sümmern",
        SiteKind.DISTRICT_HOUSE,
        "Sümmern",
        "Rombrocker Straße 20",
        "58640",
        HOUSE_HOURS,
        (
            RoomSpec(
                "Saal",
                90,
                (F.KITCHEN, F.SOUND_SYSTEM, F.TABLES_CHAIRS, F.PROJECTOR),
                accessible_toilet=True,
                rules=HOUSE_RULES,
                buffer_after=30,
            ),
            RoomSpec(
                "Clubraum",
                20,
                (F.TABLES_CHAIRS, F.WIFI),
                rules=HOUSE_RULES,
                policy=ApprovalPolicy.TRUSTED,
            ),
        ),
        managers=("ortsteilhaeuser@example.org",),
    ),
    SiteSpec(
        "Bürgerhaus Hennen",
        SiteKind.DISTRICT_HOUSE,
        "Hennen",
        "Kirchstraße 3",
        "58640",
        HOUSE_HOURS,
        (
            RoomSpec(
                "Großer Saal",
                160,
                (F.STAGE, F.KITCHEN, F.SOUND_SYSTEM, F.TABLES_CHAIRS),
                accessible_toilet=True,
                hearing_loop=True,
                rules=HOUSE_RULES,
                buffer_after=30,
                description="Mit mobiler Trennwand in zwei Hälften teilbar.",
                parts=(
                    RoomSpec(
                        "Saal Nord",
                        80,
                        (F.STAGE, F.TABLES_CHAIRS),
                        accessible_toilet=True,
                        rules=HOUSE_RULES,
                        buffer_after=30,
                    ),
                    RoomSpec(
                        "Saal Süd",
                        80,
                        (F.KITCHEN, F.TABLES_CHAIRS),
                        accessible_toilet=True,
                        rules=HOUSE_RULES,
                        buffer_after=30,
                    ),
                ),
            ),
            RoomSpec(
                "Vereinszimmer",
                25,
                (F.TABLES_CHAIRS, F.FLIPCHART),
                rules=HOUSE_RULES,
                policy=ApprovalPolicy.TRUSTED,
            ),
        ),
        managers=("ortsteilhaeuser@example.org",),
    ),
    SiteSpec(
        "Begegnungsstätte Letmathe",
        SiteKind.DISTRICT_HOUSE,
        "Letmathe",
        "Von-der-Kuhlen-Straße 8",
        "58642",
        HOUSE_HOURS,
        (
            RoomSpec(
                "Mehrzweckraum",
                50,
                (F.TABLES_CHAIRS, F.PROJECTOR, F.KITCHEN),
                accessible_toilet=True,
                rules=HOUSE_RULES,
            ),
            RoomSpec("Werkraum", 12, (F.TABLES_CHAIRS,), step_free=False, rules=HOUSE_RULES),
        ),
        managers=("ortsteilhaeuser@example.org",),
    ),
    SiteSpec(
        "Jugendzentrum Karnacksweg",
        SiteKind.YOUTH_CENTRE,
        "Innenstadt",
        "Karnacksweg 27",
        "58636",
        YOUTH_HOURS,
        (
            RoomSpec(
                "Proberaum",
                8,
                (F.SOUND_SYSTEM, F.PIANO),
                step_free=False,
                policy=ApprovalPolicy.TRUSTED,
                description="Schallgedämmter Bandproberaum mit Schlagzeug und Verstärkern.",
            ),
            RoomSpec("Offener Treff", 40, (F.KITCHEN, F.TABLES_CHAIRS, F.WIFI)),
            RoomSpec("Tanzraum", 25, (F.MIRRORS, F.SOUND_SYSTEM, F.SPORTS_FLOOR)),
        ),
        managers=("jugendzentrum@example.org",),
    ),
    SiteSpec(
        "Gemeindehaus St. Aloysius",
        SiteKind.CHURCH_HALL,
        "Iserlohnerheide",
        "Heideweg 14",
        "58638",
        CHURCH_HOURS,
        (
            RoomSpec(
                "Gemeindesaal",
                100,
                (F.KITCHEN, F.PIANO, F.TABLES_CHAIRS, F.STAGE),
                accessible_toilet=True,
                rules=HOUSE_RULES,
                buffer_after=30,
            ),
            RoomSpec("Jugendraum", 20, (F.TABLES_CHAIRS, F.WIFI), step_free=False),
        ),
        managers=("gemeinde@example.org",),
    ),
    SiteSpec(
        "Seniorenzentrum Am Zeughaus",
        SiteKind.SENIOR_CENTRE,
        "Innenstadt",
        "Zeughausstraße 6",
        "58636",
        SENIOR_HOURS,
        (
            RoomSpec(
                "Cafeteria",
                60,
                (F.KITCHEN, F.TABLES_CHAIRS, F.PIANO),
                accessible_toilet=True,
                hearing_loop=True,
            ),
            RoomSpec(
                "Gymnastikraum",
                20,
                (F.MIRRORS, F.SOUND_SYSTEM, F.SPORTS_FLOOR),
                accessible_toilet=True,
            ),
        ),
        managers=("seniorenzentrum@example.org",),
    ),
)

ORGANISATIONS = (
    ("TuS Iserlohn 1846 e.V.", OrganisationKind.ASSOCIATION, "Innenstadt", True),
    ("Chorgemeinschaft Letmathe", OrganisationKind.ASSOCIATION, "Letmathe", False),
    ("Musikschule Iserlohn", OrganisationKind.CITY_DEPARTMENT, "Innenstadt", True),
    ("VHS Iserlohn", OrganisationKind.CITY_DEPARTMENT, "Innenstadt", True),
    ("Sprachcafé Iserlohn", OrganisationKind.INITIATIVE, "Innenstadt", False),
    ("Hausaufgabenhilfe Lössel", OrganisationKind.INITIATIVE, "Lössel", False),
    ("Theatergruppe Sümmern", OrganisationKind.ASSOCIATION, "Sümmern", False),
    ("Schachfreunde Iserlohn", OrganisationKind.ASSOCIATION, "Innenstadt", False),
    ("Tanzsportclub Letmathe", OrganisationKind.ASSOCIATION, "Letmathe", False),
    ("Repair Café Iserlohn", OrganisationKind.INITIATIVE, "Iserlohnerheide", False),
    ("Jugendtreff Hennen e.V.", OrganisationKind.ASSOCIATION, "Hennen", False),
    ("Seniorenbeirat der Stadt Iserlohn", OrganisationKind.CITY_DEPARTMENT, "Innenstadt", True),
)

# (email, name, admin, organisations, language)
PEOPLE = (
    ("admin@example.org", "Alex Admin", True, (), "de"),
    ("bibliothek@example.org", "Birgit Bücher", False, (), "de"),
    ("vhs@example.org", "Volker Hansen", False, ("VHS Iserlohn",), "de"),
    ("hausmeister.stenner@example.org", "Hans Stenner", False, (), "de"),
    ("hausmeister.seilersee@example.org", "Sabine Seel", False, (), "de"),
    ("hausmeister.letmathe@example.org", "Lars Lettner", False, (), "de"),
    ("ortsteilhaeuser@example.org", "Olga Ortmann", False, (), "de"),
    ("jugendzentrum@example.org", "Jana Jung", False, (), "de"),
    ("gemeinde@example.org", "Georg Gemke", False, (), "de"),
    ("seniorenzentrum@example.org", "Sonja Sennert", False, (), "de"),
    ("anna@example.org", "Anna Sport", False, ("TuS Iserlohn 1846 e.V.",), "de"),
    ("chor@example.org", "Clara Chor", False, ("Chorgemeinschaft Letmathe",), "de"),
    ("musik@example.org", "Moritz Musik", False, ("Musikschule Iserlohn",), "de"),
    ("sprachcafe@example.org", "Samira Haddad", False, ("Sprachcafé Iserlohn",), "en"),
    ("lernhilfe@example.org", "Lena Lernt", False, ("Hausaufgabenhilfe Lössel",), "de"),
    ("theater@example.org", "Theo Bühne", False, ("Theatergruppe Sümmern",), "de"),
    ("schach@example.org", "Sven Springer", False, ("Schachfreunde Iserlohn",), "de"),
    ("tanz@example.org", "Tanja Tango", False, ("Tanzsportclub Letmathe",), "de"),
    ("repair@example.org", "Rafael Reparatur", False, ("Repair Café Iserlohn",), "en"),
    ("jugend@example.org", "Jonas Jugend", False, ("Jugendtreff Hennen e.V.",), "de"),
    ("senioren@example.org", "Sieglinde Senn", False, ("Seniorenbeirat der Stadt Iserlohn",), "de"),
    (
        "ehrenamt@example.org",
        "Emil Ehrenamt",
        False,
        ("TuS Iserlohn 1846 e.V.", "Sprachcafé Iserlohn"),
        "de",
    ),
)

# Weekly series: (org, site, room, weekday, start, minutes, title, public)
SERIES = (
    (
        "TuS Iserlohn 1846 e.V.",
        "Gymnasium An der Stenner",
        "Hallenteil A",
        0,
        "18:00",
        90,
        "Volleyball Damen",
        False,
    ),
    (
        "TuS Iserlohn 1846 e.V.",
        "Gymnasium An der Stenner",
        "Hallenteil B",
        0,
        "18:00",
        90,
        "Basketball Jugend",
        False,
    ),
    (
        "TuS Iserlohn 1846 e.V.",
        "Gymnasium An der Stenner",
        "Dreifachturnhalle",
        2,
        "19:00",
        120,
        "Handball Herren",
        False,
    ),
    (
        "Tanzsportclub Letmathe",
        "Gymnasium An der Stenner",
        "Hallenteil C",
        3,
        "17:00",
        90,
        "Kindertanz",
        True,
    ),
    (
        "Chorgemeinschaft Letmathe",
        "Realschule Letmathe",
        "Musikraum",
        1,
        "19:30",
        120,
        "Chorprobe – neue Stimmen willkommen",
        True,
    ),
    (
        "Musikschule Iserlohn",
        "Gymnasium An der Stenner",
        "Musikraum",
        2,
        "16:00",
        120,
        "Bläserklasse",
        False,
    ),
    (
        "Musikschule Iserlohn",
        "Gesamtschule Seilersee",
        "Musikraum",
        3,
        "16:30",
        90,
        "Streicherensemble",
        False,
    ),
    (
        "Sprachcafé Iserlohn",
        "Stadtbücherei Iserlohn",
        "Gruppenraum 2",
        3,
        "17:00",
        90,
        "Sprachcafé Deutsch–Arabisch–Ukrainisch",
        True,
    ),
    (
        "Hausaufgabenhilfe Lössel",
        "Begegnungsstätte Letmathe",
        "Mehrzweckraum",
        1,
        "15:00",
        90,
        "Hausaufgabenhilfe",
        True,
    ),
    (
        "Theatergruppe Sümmern",
        "Ortsteilhaus Sümmern",
        "Saal",
        4,
        "19:00",
        150,
        "Theaterprobe",
        False,
    ),
    (
        "Schachfreunde Iserlohn",
        "Seniorenzentrum Am Zeughaus",
        "Cafeteria",
        0,
        "14:00",
        180,
        "Offener Schachtreff",
        True,
    ),
    (
        "Jugendtreff Hennen e.V.",
        "Bürgerhaus Hennen",
        "Saal Nord",
        4,
        "17:00",
        120,
        "Jugendtreff",
        True,
    ),
    (
        "Repair Café Iserlohn",
        "Gemeindehaus St. Aloysius",
        "Gemeindesaal",
        5,
        "10:00",
        240,
        "Repair Café",
        True,
    ),
    (
        "Seniorenbeirat der Stadt Iserlohn",
        "Seniorenzentrum Am Zeughaus",
        "Gymnastikraum",
        1,
        "10:00",
        60,
        "Sitzgymnastik",
        True,
    ),
    (
        "VHS Iserlohn",
        "Volkshochschule Iserlohn",
        "Seminarraum 1.12",
        0,
        "18:30",
        90,
        "Deutschkurs B1 (Abend)",
        False,
    ),
    (
        "TuS Iserlohn 1846 e.V.",
        "Grundschule Sümmern",
        "Turnhalle",
        3,
        "16:00",
        60,
        "Eltern-Kind-Turnen",
        True,
    ),
    (
        "Tanzsportclub Letmathe",
        "Jugendzentrum Karnacksweg",
        "Tanzraum",
        1,
        "18:00",
        120,
        "Hip-Hop für Jugendliche",
        True,
    ),
    (
        "Musikschule Iserlohn",
        "Jugendzentrum Karnacksweg",
        "Proberaum",
        2,
        "16:00",
        120,
        "Bandcoaching",
        False,
    ),
)

ONE_OFF_TITLES = (
    "Mitgliederversammlung",
    "Vorstandssitzung",
    "Lesung",
    "Infoabend",
    "Workshop",
    "Elternabend",
    "Vereinsfeier",
    "Konzertprobe",
    "Erste-Hilfe-Kurs",
    "Flohmarkt-Planung",
    "Kreativwerkstatt",
    "Vortrag",
    "Spieleabend",
    "Netzwerktreffen",
    "Fortbildung",
)


def seed_demo(today: date | None = None, log=print) -> dict[str, int]:
    """Create the demo data; returns counts of what was added."""
    today = today or datetime.now(UTC).date()
    counts = {"sites": 0, "rooms": 0, "organisations": 0, "users": 0, "bookings": 0, "closures": 0}
    organisations = _organisations(counts)
    users = _people(organisations, counts)
    sites = _sites(users, counts)
    db.session.flush()
    admin = users["admin@example.org"]
    counts["closures"] = _closures(admin, sites)
    db.session.commit()
    demo_ids = [u.id for u in users.values()]
    already = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.requested_by_id.in_(demo_ids))
    )
    if already:
        log(f"Demo bookings exist already ({already}); not adding more.")
    else:
        before = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        counts["bookings"] = _bookings(today, sites, organisations, users, log)
        # The demo goes through the real services, which queue "booking received" mails; nobody
        # asked for those, so they must not go out when a mail server is configured later.
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > before))
        db.session.commit()
    return counts


def _organisations(counts) -> dict[str, Organisation]:
    found = {}
    for name, kind, district, trusted in ORGANISATIONS:
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None:
            org = Organisation(
                name=name,
                kind=kind,
                district=district,
                trusted=trusted,
                description=f"{name} – aktiv in {district}.",
            )
            db.session.add(org)
            counts["organisations"] += 1
        found[name] = org
    db.session.flush()
    return found


def _people(organisations, counts) -> dict[str, User]:
    found = {}
    for email, name, admin, orgs, language in PEOPLE:
        existed = db.session.scalar(select(User.id).where(User.email == email)) is not None
        user = upsert_user(
            email=email, name=name, password=None if existed else DEMO_PASSWORD, admin=admin
        )
        user.language = language
        counts["users"] += 0 if existed else 1
        for org_name in orgs:
            org = organisations[org_name]
            if not any(m.organisation_id == org.id for m in user.memberships):
                user.memberships.append(Membership(organisation=org, role=MemberRole.ADMIN))
        found[email] = user
    db.session.flush()
    return found


def _sites(users, counts) -> dict[str, Site]:
    found = {}
    for spec in SITES:
        site = db.session.scalar(select(Site).where(Site.name == spec.name))
        if site is None:
            site = Site(
                name=spec.name,
                kind=spec.kind,
                district=spec.district,
                street=spec.street,
                postcode=spec.postcode,
                city="Iserlohn",
                timezone=current_app.config["BOOKING_TIMEZONE"],
                description=spec.description,
                contact_email=spec.contact,
            )
            db.session.add(site)
            db.session.flush()
            for weekday, windows in spec.hours.items():
                for opens, closes in windows:
                    db.session.add(
                        OpeningWindow(site_id=site.id, weekday=weekday, opens=opens, closes=closes)
                    )
            counts["sites"] += 1
        for email in spec.managers:
            if users[email] not in site.managers:
                site.managers.append(users[email])
        for room_spec in spec.rooms:
            _room(site, room_spec, None, counts)
        found[spec.name] = site
    return found


def _room(site: Site, spec: RoomSpec, parent: Room | None, counts) -> Room:
    room = db.session.scalar(select(Room).where(Room.site_id == site.id, Room.name == spec.name))
    if room is None:
        room = Room(
            site=site,
            parent=parent,
            name=spec.name,
            capacity=spec.capacity,
            description=spec.description,
            house_rules=spec.rules,
            step_free=spec.step_free,
            accessible_toilet=spec.accessible_toilet,
            hearing_loop=spec.hearing_loop,
            approval_policy=spec.policy,
            buffer_after_minutes=spec.buffer_after,
            min_lead_minutes=spec.min_lead_minutes,
            max_advance_days=400,
        )
        room.features = spec.features
        db.session.add(room)
        counts["rooms"] += 1
    db.session.flush()
    for part in spec.parts:
        _room(site, part, room, counts)
    return room


def _closures(admin: User, sites: dict[str, Site]) -> int:
    data = resources.files("booking.data")
    public = closure_service.parse_ics_periods(
        data.joinpath("nrw-public-holidays-2026-2028.ics").read_bytes()
    )
    school = closure_service.parse_ics_periods(
        data.joinpath("nrw-school-holidays-2026-2028.ics").read_bytes()
    )
    all_ids = [s.id for s in sites.values()]
    school_ids = [
        s.id for spec, s in zip(SITES, sites.values(), strict=True) if spec.school_holidays
    ]
    changed = closure_service.import_periods(admin, all_ids, public)
    changed += closure_service.import_periods(admin, school_ids, school)
    return changed


def _hm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _bookings(today: date, sites, organisations, users, log) -> int:
    """A school year's worth: weekly series from eight weeks ago, one-offs around today."""
    rng = random.Random(2026)  # noqa: S311 (demo data, not security)
    members = {}
    for email, _name, _admin, orgs, _lang in PEOPLE:
        for org in orgs:
            members.setdefault(org, users[email])
    season_start = today - timedelta(weeks=8)
    season_end = today + timedelta(weeks=30)
    # Bookings "made" in the past pass the lead-time rules as they did then.
    made_at = datetime.combine(season_start - timedelta(days=7), time(9), tzinfo=UTC)
    created = 0
    rooms = {(r.site.name, r.name): r for r in db.session.scalars(select(Room))}
    for org_name, site_name, room_name, weekday, start, minutes, title, public in SERIES:
        room = rooms[(site_name, room_name)]
        first = season_start + timedelta(days=(weekday - season_start.weekday()) % 7)
        start_at = datetime.combine(first, _hm(start))
        command = booking_service.BookingCommand(
            room_id=room.id,
            title=title,
            start=start_at,
            end=start_at + timedelta(minutes=minutes),
            organisation_id=organisations[org_name].id,
            description=f"Regelmäßiges Angebot: {title}.",
            attendees=min(room.capacity, 15),
            is_public=public,
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
            booking = booking_service.request_booking(members[org_name], command, now=made_at)
        except ServiceError as exc:
            log(f"skipped series {title!r}: {exc.message}")
            continue
        created += 1
        _decide(booking, users, rng, made_at)
    bookable = [r for r in rooms.values() if r.parent_id is None or rng.random() < 0.5]
    requesters = [(org, members[org]) for org in members]
    for _ in range(450):
        room = rng.choice(bookable)
        org_name, user = rng.choice(requesters)
        day = today + timedelta(days=rng.randint(-30, 120))
        start_at = datetime.combine(day, time(rng.choice([10, 14, 16, 17, 18, 19]), 0))
        command = booking_service.BookingCommand(
            room_id=room.id,
            title=rng.choice(ONE_OFF_TITLES),
            start=start_at,
            end=start_at + timedelta(minutes=rng.choice([60, 90, 120, 180])),
            organisation_id=organisations[org_name].id,
            attendees=rng.randint(3, max(3, min(room.capacity, 40))),
            is_public=rng.random() < 0.3,
            house_rules_accepted=True,
        )
        try:
            booking = booking_service.request_booking(user, command, now=made_at)
        except (Conflict, ServiceError):
            continue  # taken, closed or outside opening hours: a real requester would pick again
        created += 1
        _decide(booking, users, rng, made_at)
    db.session.commit()
    log(f"Added {created} bookings.")
    return created


def _decide(booking: Booking, users, rng: random.Random, now: datetime) -> None:
    """Managers have answered most requests; a few wait, a few were declined or cancelled."""
    db.session.commit()
    pending = [o.id for o in booking.occurrences if o.status.value == "pending"]
    manager = next(iter(booking.room.site.managers), users["admin@example.org"])
    roll = rng.random()
    try:
        if pending and roll < 0.65:
            booking_service.approve(manager, booking.id, now=now)
        elif pending and roll < 0.72:
            booking_service.decline(
                manager,
                booking.id,
                "Der Raum ist zu dieser Zeit schon für eine Schulveranstaltung vorgesehen.",
                now=now,
            )
        if len(booking.occurrences) > 3 and rng.random() < 0.3:
            victim = booking.occurrences[rng.randrange(len(booking.occurrences))]
            if victim.status.value in ("pending", "approved"):
                booking_service.cancel(
                    booking.requested_by,
                    booking.id,
                    [victim.id],
                    "Fällt wegen Krankheit aus.",
                    now=now,
                )
    except ServiceError:
        db.session.rollback()
        return
    db.session.commit()
