"""Hostile input on the web pages and feeds (#13): whatever a client sends, the answer is a
404, a 400 or a form error, never a 500. First the inputs the issue names, each with the exact
answer it gets; then Hypothesis sends arbitrary text (NUL, control characters, huge numbers,
odd unicode, very long strings) into the query strings and the main forms. The JSON API has its
own fuzzing (tests/api/test_api_openapi.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.api.tokens import create_token
from booking.models import User

HUGE = "99999999999999999999"  # above 2**63
ABOVE_INT32 = "2147483648"  # 2**31: the first id the database cannot hold
ABOVE_INT64 = "9223372036854775808"  # 2**63


@dataclass
class World:
    site_id: int
    room_id: int
    organisation_id: int
    user: User
    admin: User


@pytest.fixture
def world(db, make_site, make_room, make_user, make_organisation) -> World:
    site = make_site(district="Innenstadt")
    room = make_room(site)
    organisation = make_organisation()
    user = make_user(language="en", organisations=[organisation])
    admin = make_user(language="en", is_admin=True)
    db.session.commit()
    return World(site.id, room.id, organisation.id, user, admin)


def soon() -> date:
    return date.today() + timedelta(days=14)


def booking_form(**changes) -> dict:
    return {
        "date": soon().isoformat(),
        "start": "18:00",
        "end": "20:00",
        "title": "Chorprobe",
        "description": "Offene Probe",
        "organisation": "",
        "repeat": "none",
        "house_rules_accepted": "y",
        "preview": "y",
    } | changes


def organisation_form(**changes) -> dict:
    return {
        "name": "Chor Hennen",
        "kind": "association",
        "district": "Hennen",
        "description": "Wir singen.",
        "website": "https://chor.example.org",
    } | changes


def site_form(**changes) -> dict:
    return {
        "name": "Alter Markt",
        "kind": "square",
        "district": "Innenstadt",
        "street": "Alter Markt 1",
        "postcode": "58636",
        "city": "Iserlohn",
        "timezone": "Europe/Berlin",
        "contact_name": "Marktamt",
        "contact_phone": "02371 1234",
        "contact_email": "markt@example.org",
        "description": "Der Platz vor dem Rathaus.",
        "active": "y",
    } | changes


def room_form(**changes) -> dict:
    return {
        "name": "Turnhalle",
        "parent_id": "",
        "capacity": "120",
        "approval_policy": "manual",
        "min_lead_minutes": "0",
        "max_advance_days": "400",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "active": "y",
    } | changes


def register_form(**changes) -> dict:
    return {
        "email": "nora@example.org",
        "name": "Nora Neu",
        "password": "Kirschbaum im Hinterhof 7",
        "confirm": "Kirschbaum im Hinterhof 7",
        "language": "de",
    } | changes


def has_field_error(html: str, field: str) -> bool:
    return re.search(rf'id="{field}-error"', html) is not None


# --- the inputs the issue names -------------------------------------------------------------

# (name, who is logged in, method, path, form data, status, field with an error)
CASES = [
    # Ids beyond the database's integer range name nothing: 404 on every surface.
    ("room above int32", None, "GET", f"/rooms/{ABOVE_INT32}", None, 404, None),
    ("room above int64", None, "GET", f"/rooms/{ABOVE_INT64}", None, 404, None),
    ("room with 5000 digits", None, "GET", "/rooms/" + "9" * 5000, None, 404, None),
    ("site huge", None, "GET", f"/sites/{HUGE}", None, 404, None),
    ("site photo huge", None, "GET", f"/sites/{ABOVE_INT32}/photo", None, 404, None),
    ("organisation huge", "user", "GET", f"/organisations/{HUGE}", None, 404, None),
    ("revoke token huge", "user", "POST", f"/profile/api-tokens/{HUGE}/revoke", {}, 404, None),
    ("cancel huge", "user", "GET", f"/my/bookings/{ABOVE_INT64}/cancel", None, 404, None),
    ("room feed huge", None, "GET", f"/ical/rooms/{ABOVE_INT32}.ics", None, 404, None),
    ("booking feed huge", "user", "GET", f"/bookings/{ABOVE_INT64}.ics", None, 404, None),
    ("admin room huge", "admin", "GET", f"/admin/rooms/{ABOVE_INT32}/edit", None, 404, None),
    ("admin user huge", "admin", "GET", f"/admin/users/{HUGE}", None, 404, None),
    ("api room huge", None, "GET", f"/api/v1/rooms/{ABOVE_INT64}", None, 404, None),
    # Page numbers: anything but a sensible number is the first page, a huge one the last.
    ("offers page 1e20", None, "GET", "/offers?page=1e20", None, 200, None),
    ("offers page huge", None, "GET", f"/offers?page={HUGE}", None, 200, None),
    ("offers page negative", None, "GET", "/offers?page=-3", None, 200, None),
    ("offers page superscript", None, "GET", "/offers?page=%C2%B2", None, 200, None),
    ("organisations page huge", "user", "GET", f"/organisations?page={HUGE}", None, 200, None),
    ("admin users page huge", "admin", "GET", f"/admin/users?page={HUGE}", None, 200, None),
    ("admin orgs page huge", "admin", "GET", f"/admin/organisations?page={HUGE}", None, 200, None),
    ("audit page huge", "admin", "GET", f"/admin/audit?page={HUGE}", None, 400, None),
    ("my bookings page huge", "user", "GET", f"/my/bookings?page={HUGE}", None, 200, None),
    (
        "manage requests organisation huge",
        "admin",
        "GET",
        f"/manage/requests?organisation={HUGE}&page={HUGE}",
        None,
        200,
        None,
    ),
    ("manage bookings page huge", "admin", "GET", f"/manage/bookings?page={HUGE}", None, 200, None),
    (
        "closure hits huge",
        "admin",
        "GET",
        f"/admin/sites/{{site}}/closures/hits?closure={HUGE}",
        None,
        200,
        None,
    ),
    (
        "closures page huge",
        "admin",
        "GET",
        f"/admin/sites/{{site}}/closures?page={HUGE}",
        None,
        200,
        None,
    ),
    # NUL can never be stored (PostgreSQL text refuses it): 400 wherever it comes.
    ("public feed NUL", None, "GET", "/ical/public.ics?district=a%00b", None, 400, None),
    ("feed token NUL", None, "GET", "/ical/feed/a%00b.ics", None, 404, None),
    ("offers district NUL", None, "GET", "/offers?district=a%00b", None, 400, None),
    ("search NUL", None, "GET", "/?mode=date&start=10:00&end=11:00&district=%00", None, 400, None),
    ("organisation search NUL", "user", "GET", "/organisations?q=a%00b", None, 400, None),
    ("login NUL", None, "POST", "/login", {"email": "a\x00@b.org", "password": "x"}, 400, None),
    ("register NUL", None, "POST", "/register", register_form(name="No\x00ra"), 400, None),
    ("book NUL", "user", "POST", "/rooms/{room}/book", booking_form(title="Chor\x00"), 400, None),
    ("org NUL", "user", "POST", "/organisations/new", organisation_form(name="C\x00"), 400, None),
    # Dates at the edges of the calendar: a message, never an OverflowError.
    ("week 9999-W52", None, "GET", "/rooms/{room}?week=9999-W52", None, 400, None),
    ("week 0001-W01", None, "GET", "/rooms/{room}?week=0001-W01", None, 400, None),
    (
        "search 9999-12-31",
        None,
        "GET",
        "/?mode=date&date=9999-12-31&start=10:00&end=11:00",
        None,
        422,
        "date",
    ),
    (
        "weekly search until 9999-12-31",
        None,
        "GET",
        "/?mode=weekly&weekday=0&weekly_end=date&until=9999-12-31&start=10:00&end=11:00",
        None,
        422,
        "until",
    ),
    ("offers 0001 to 9999", None, "GET", "/offers?from=0001-01-01&to=9999-12-31", None, 200, None),
    (
        "book 9999-12-31",
        "user",
        "POST",
        "/rooms/{room}/book",
        booking_form(date="9999-12-31"),
        422,
        "date",
    ),
    # Control characters in one-line fields (a title ends up in a mail's subject).
    (
        "book title CR",
        "user",
        "POST",
        "/rooms/{room}/book",
        booking_form(title="Chorprobe\rBcc: x@evil.example"),
        422,
        "title",
    ),
    (
        "book title TAB",
        "user",
        "POST",
        "/rooms/{room}/book",
        booking_form(title="Chor\tprobe"),
        422,
        "title",
    ),
    (
        "org name LF",
        "user",
        "POST",
        "/organisations/new",
        organisation_form(name="Chor\nBcc: x@evil.example"),
        422,
        "name",
    ),
    (
        "register name CRLF",
        None,
        "POST",
        "/register",
        register_form(name="Nora\r\nBcc: x@evil.example"),
        422,
        "name",
    ),
    (
        "profile name ESC",
        "user",
        "POST",
        "/profile",
        {"profile-name": "Nora\x1b[31m", "profile-language": "en", "profile-submit": "y"},
        422,
        "profile-name",
    ),
    (
        "site name TAB",
        "admin",
        "POST",
        "/admin/sites/new",
        site_form(name="Alter\tMarkt"),
        422,
        "name",
    ),
    (
        "site phone LF",
        "admin",
        "POST",
        "/admin/sites/new",
        site_form(contact_phone="02371\nBcc: x@evil.example"),
        422,
        "contact_phone",
    ),
    (
        "room name CR",
        "admin",
        "POST",
        "/admin/sites/{site}/rooms/new",
        room_form(name="Turn\rhalle"),
        422,
        "name",
    ),
    # Line breaks stay welcome where text has several lines.
    (
        "book description lines",
        "user",
        "POST",
        "/rooms/{room}/book",
        booking_form(description="Erste Zeile\r\n\tZweite Zeile"),
        200,
        None,
    ),
    # The public feed's district is one of the districts with a site, not any text.
    (
        "public feed unknown district",
        None,
        "GET",
        "/ical/public.ics?district=Nirgendwo",
        None,
        404,
        None,
    ),
    (
        "public feed known district",
        None,
        "GET",
        "/ical/public.ics?district=innenstadt",
        None,
        200,
        None,
    ),
    # The managers' and admins' filters and plans at the calendar's edges: a filter is moved to
    # the years bookings can lie in (it then shows everything), a plan of year 9999 is a 400.
    ("requests on day 1", "admin", "GET", "/manage/requests?date=0001-01-01", None, 200, None),
    ("requests on 9999", "admin", "GET", "/manage/requests?date=9999-12-31", None, 200, None),
    (
        "bookings from 1 to 9999",
        "admin",
        "GET",
        "/manage/bookings?from=0001-01-01&to=9999-12-31",
        None,
        200,
        None,
    ),
    ("bookings to 9999", "admin", "GET", "/manage/bookings?to=9999-12-31", None, 200, None),
    (
        "audit from 1 to 9999",
        "admin",
        "GET",
        "/admin/audit?since=0001-01-01&until=9999-12-31",
        None,
        422,
        "since",
    ),
    ("plan of 9999", "admin", "GET", "/manage/sites/{site}/plan?date=9999-12-31", None, 400, None),
    ("plan of day 1", "admin", "GET", "/manage/sites/{site}/plan?date=0001-01-01", None, 400, None),
    (
        "door sign of 9999",
        "admin",
        "GET",
        "/manage/rooms/{room}/door-sign?date=9999-12-31",
        None,
        400,
        None,
    ),
]


def _send(client, world: World, login_as, who, method, path, data):
    if who is not None:
        login_as(getattr(world, who))
    path = path.format(room=world.room_id, site=world.site_id)
    if method == "GET":
        return client.get(path)
    return client.post(path, data=data)


@pytest.mark.parametrize(
    ("who", "method", "path", "data", "status", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_hostile_input_gets_a_clear_answer(
    client, world, login_as, who, method, path, data, status, field
):
    response = _send(client, world, login_as, who, method, path, data)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:2000]
    if field is not None:
        assert has_field_error(html, field), html
    if path.startswith("/api/"):
        assert response.mimetype == "application/problem+json"


def test_public_feed_names_the_district_as_the_site_does(client, world):
    body = client.get("/ical/public.ics?district=INNENSTADT").get_data(as_text=True)
    assert "(Innenstadt)" in body
    assert "INNENSTADT" not in body


@pytest.mark.parametrize(
    "title", ["Chorprobe\rBcc: x@evil.example", "Chor\nprobe", "Chor\tprobe", "Chor\x7fprobe"]
)
def test_the_api_refuses_control_characters_in_a_title(client, db, world, title):
    _token, plain = create_token(world.user, "test")
    db.session.commit()
    start = soon().isoformat()
    body = {
        "room_id": world.room_id,
        "title": title,
        "start": f"{start}T18:00",
        "end": f"{start}T20:00",
    }
    response = client.post(
        "/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert "title" in [e["field"] for e in problem["errors"]]


def test_the_api_keeps_line_breaks_in_a_description(client, db, world):
    _token, plain = create_token(world.user, "test")
    db.session.commit()
    start = soon().isoformat()
    body = {
        "room_id": world.room_id,
        "title": "Chorprobe",
        "start": f"{start}T18:00",
        "end": f"{start}T20:00",
        "description": "Erste Zeile\r\n\tZweite",
    }
    response = client.post(
        "/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)


# --- fuzzing: arbitrary text into query strings and forms -------------------------------------

EDGES = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\nBcc: x@evil.example",
    "\t",
    "\x1b[31m",
    "\u2028",
    "\ufeff",
    "\U0001f600",
    "²",
    "١٢",
    "-1",
    "0",
    "1e20",
    ABOVE_INT32,
    ABOVE_INT64,
    HUGE,
    "9" * 5000,
    "0001-01-01",
    "9999-12-31",
    "9999-W52",
    "0001-W01",
    "2026-W53",
    "24:00",
    "23:59:60",
    "NaN",
    "x" * 10_000,
]
hostile = st.one_of(
    st.sampled_from(EDGES),
    st.sampled_from(EDGES),  # twice: the edges are where things break
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=20),
    st.integers().map(str),
    st.dates().map(date.isoformat),  # any year from 1 to 9999
    st.dates().map(lambda day: "{}-W{:02d}".format(*day.isocalendar())),
    st.builds("{}\x00{}".format, st.text(max_size=5), st.text(max_size=5)),
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def params(draw, **valid) -> dict:
    """Sensible values (or a strategy of them) with one to three replaced by hostile text: the
    other parameters being right is what lets the hostile one reach deep into a page."""
    sent = {k: draw(v) if isinstance(v, st.SearchStrategy) else v for k, v in valid.items()}
    names = draw(st.lists(st.sampled_from(sorted(valid)), min_size=1, max_size=3, unique=True))
    return sent | {name: draw(hostile) for name in names}


def assert_no_server_error(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]


@FUZZ
@given(
    args=params(
        mode=st.sampled_from(["date", "weekly"]),
        date=soon().isoformat(),
        weekday="1",
        weekly_end=st.sampled_from(["weeks", "date", "summer", "half_year"]),
        weeks="8",
        until=(soon() + timedelta(days=60)).isoformat(),
        start="10:00",
        end="12:00",
        people="10",
        district="Innenstadt",
        features="projector",
        skip_closures="y",
    )
)
def test_search_survives_any_query(client, world, args):
    assert_no_server_error(client.get("/", query_string=args))


@FUZZ
@given(args=params(district="Innenstadt", page="2", **{"from": "2026-01-01", "to": "2027-01-01"}))
def test_offers_survive_any_query(client, world, args):
    assert_no_server_error(client.get("/offers", query_string=args))


@FUZZ
@given(week=hostile)
def test_room_page_survives_any_week(client, world, week):
    assert_no_server_error(client.get(f"/rooms/{world.room_id}", query_string={"week": week}))


@FUZZ
@given(args=params(district="Innenstadt", lang="en"), path=st.sampled_from(["public", "room"]))
def test_feeds_survive_any_query(client, world, args, path):
    url = "/ical/public.ics" if path == "public" else f"/ical/rooms/{world.room_id}.ics"
    assert_no_server_error(client.get(url, query_string=args))


@FUZZ
@given(form=params(**register_form()))
def test_register_survives_any_form(client, world, form):
    assert_no_server_error(client.post("/register", data=form))


@FUZZ
@given(form=params(email="user@example.org", password="correct horse battery", remember="y"))
def test_login_survives_any_form(client, world, form):
    assert_no_server_error(client.post("/login", data=form))


@FUZZ
@given(
    form=params(
        **booking_form(
            attendees="12",
            until=(soon() + timedelta(days=60)).isoformat(),
            count="3",
            weekdays="1",
            position="1",
            repeat=st.sampled_from(["none", "weekly", "biweekly", "monthly"]),
            limit=st.sampled_from(["until", "count"]),
            preview=st.sampled_from(["y", ""]),
            book=st.sampled_from(["", "y"]),
        )
    )
)
def test_booking_form_survives_any_form(client, world, login_as, form):
    login_as(world.user)
    assert_no_server_error(client.post(f"/rooms/{world.room_id}/book", data=form))


@FUZZ
@given(form=params(**organisation_form()), q=hostile)
def test_organisation_forms_survive_any_input(client, world, login_as, form, q):
    login_as(world.user)
    assert_no_server_error(client.post("/organisations/new", data=form))
    assert_no_server_error(client.get("/organisations", query_string={"q": q, "page": q}))


@FUZZ
@given(form=params(**site_form()))
def test_admin_site_form_survives_any_form(client, world, login_as, form):
    login_as(world.admin)
    assert_no_server_error(client.post("/admin/sites/new", data=form))
    assert_no_server_error(client.post(f"/admin/sites/{world.site_id}/edit", data=form))


@FUZZ
@given(form=params(**room_form(area_m2="80", description="Hell", house_rules="Schuhe aus")))
def test_admin_room_form_survives_any_form(client, world, login_as, form):
    login_as(world.admin)
    assert_no_server_error(client.post(f"/admin/sites/{world.site_id}/rooms/new", data=form))
    assert_no_server_error(client.post(f"/admin/rooms/{world.room_id}/edit", data=form))
