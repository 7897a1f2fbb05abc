"""Facility managers answer requests for their sites, and only for theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.domain import Frequency, Recurrence
from booking.models import ApprovalPolicy, Booking, Occurrence, OccurrenceStatus, OutboxMessage
from booking.services.bookings import approve
from tests.conftest import PASSWORD

NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)


@pytest.fixture
def scene(db, make_room, make_user, make_organisation, make_booking):
    room = make_room(name="Aula", approval_policy=ApprovalPolicy.MANUAL)
    other_room = make_room(name="Fremder Saal", approval_policy=ApprovalPolicy.MANUAL)
    manager = make_user(name="Hausmeister", manages=[room.site])
    choir = make_organisation(name="Kammerchor")
    singer = make_user(name="Sängerin", organisations=[choir])
    series = make_booking(
        singer,
        room,
        datetime(2027, 2, 2, 18),
        120,
        title="Chorprobe",
        organisation_id=choir.id,
        recurrence=Recurrence(Frequency.WEEKLY, count=3),
        now=NOW,
    )
    rival = make_booking(make_user(), room, datetime(2027, 2, 9, 19), 60, title="Lesung", now=NOW)
    elsewhere = make_booking(
        singer, other_room, datetime(2027, 2, 2, 18), title="Anderswo", now=NOW
    )
    return {"manager": manager, "series": series, "rival": rival, "elsewhere": elsewhere}


def statuses(db, booking) -> list[str]:
    db.session.expire_all()
    return [
        o.status.value
        for o in db.session.scalars(
            select(Occurrence).where(Occurrence.booking_id == booking.id).order_by(Occurrence.id)
        )
    ]


def test_manager_sees_requests_of_own_sites_with_rivals(client, login_as, scene):
    login_as(scene["manager"])
    html = client.get("/manage/requests").get_data(as_text=True)
    assert "Chorprobe" in html and "Lesung" in html
    assert "Anderswo" not in html  # another site's request
    assert "Also requested by" in html or "Auch angefragt" in html


def test_approve_some_and_decline_others(client, login_as, db, scene):
    login_as(scene["manager"])
    series = scene["series"]
    first, second, third = sorted(o.id for o in series.occurrences)
    response = client.post(
        f"/manage/bookings/{series.id}/decide",
        data={"action": "approve", "occurrences": [first, third]},
    )
    assert response.status_code == 302
    assert statuses(db, series) == ["approved", "pending", "approved"]

    # Declining without a reason is refused and changes nothing
    client.post(
        f"/manage/bookings/{series.id}/decide", data={"action": "decline", "occurrences": [second]}
    )
    assert statuses(db, series) == ["approved", "pending", "approved"]
    client.post(
        f"/manage/bookings/{series.id}/decide",
        data={"action": "decline", "occurrences": [second], "message": "Elternabend"},
    )
    assert statuses(db, series) == ["approved", "declined", "approved"]
    declined = db.session.get(Occurrence, second)
    assert declined.status_reason == "Elternabend"


def test_approving_a_rival_of_an_approved_date_is_refused(client, login_as, db, scene):
    # Approved elsewhere (the API approves without declining rivals): the rival stays pending.
    approve(scene["manager"], scene["series"].id, now=NOW)
    db.session.commit()
    login_as(scene["manager"])
    response = client.post(
        f"/manage/bookings/{scene['rival'].id}/decide", data={"action": "approve"}
    )
    assert response.status_code == 302
    assert statuses(db, scene["rival"]) == ["pending"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lesung" in page


def test_others_cannot_manage(client, login_as, db, scene, make_user):
    login_as(make_user())
    assert client.get("/manage").status_code == 403
    assert client.get("/manage/requests").status_code == 403
    response = client.post(
        f"/manage/bookings/{scene['series'].id}/decide", data={"action": "approve"}
    )
    assert response.status_code == 404
    assert statuses(db, scene["series"]) == ["pending", "pending", "pending"]


def test_only_managers_see_the_requests_link(client, login_as, db, scene, make_user):
    assert "/manage" not in client.get("/").text
    login_as(scene["manager"])
    assert 'href="/manage"' in client.get("/").text


# The manager's day (#11): dashboard, the requests list, approving with rivals.


def _approved(db, room, title, start, minutes=60, organisation=None, **kwargs) -> Booking:
    """An approved date written directly (the dashboard only reads it)."""
    booking = Booking(room=room, title=title, organisation=organisation, **kwargs)
    booking.occurrences = [
        Occurrence(
            room=room,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            status=OccurrenceStatus.APPROVED,
        )
    ]
    db.session.add(booking)
    db.session.flush()
    return booking


def test_dashboard_shows_waiting_requests_and_the_day(
    client, login_as, db, scene, make_room, make_organisation
):
    manager = scene["manager"]
    manager.language = "en"
    room = scene["series"].room
    now = datetime.now(UTC).replace(microsecond=0)
    scene["series"].created_at = now - timedelta(days=3)
    club = make_organisation(name="Turnverein")
    _approved(db, room, "Heute Turnen", now - timedelta(minutes=1), organisation=club)
    _approved(db, room, "Nächste Woche", now + timedelta(days=8))
    _approved(db, make_room(name="Anderer Ort"), "Fremd heute", now - timedelta(minutes=1))
    today = now.astimezone(ZoneInfo("Europe/Berlin")).date()
    if today.weekday() < 6:
        _approved(db, room, "Morgen Chor", now + timedelta(days=1))
    login_as(manager)

    html = client.get("/manage").get_data(as_text=True)
    assert "2 requests are waiting" in html and "(4 dates)" in html  # series 3 + rival 1
    assert "the oldest for 3 days" in html
    today_part, week_part = html.split('id="week-title"')
    assert "Heute Turnen" in today_part and "Turnverein" in today_part and "Aula" in today_part
    local_start = (now - timedelta(minutes=1)).astimezone(ZoneInfo("Europe/Berlin"))
    assert local_start.strftime("%H:%M") in today_part  # the site's wall time, 24-hour
    assert "Fremd heute" not in html  # another site
    assert "Nächste Woche" not in html
    assert ("Morgen Chor" in week_part) == (today.weekday() < 6)
    assert 'href="/manage/requests"' in html


def test_managers_land_on_the_dashboard_after_login(client, db, scene, make_user):
    def log_in(user, **query):
        db.session.commit()
        return client.post(
            "/login", query_string=query, data={"email": user.email, "password": PASSWORD}
        ).headers["Location"]

    assert log_in(scene["manager"]) == "/manage"
    client.post("/logout")
    assert log_in(make_user(is_admin=True)) == "/manage"
    client.post("/logout")
    assert log_in(scene["manager"], next="/my/bookings") == "/my/bookings"
    client.post("/logout")
    assert log_in(make_user()) == "/"


def test_requests_are_grouped_filtered_and_paged(
    client, login_as, db, scene, make_room, make_user, make_organisation, make_booking
):
    manager = scene["manager"]
    site = scene["series"].room.site
    small = make_room(site, name="Werkraum", approval_policy=ApprovalPolicy.MANUAL)
    theatre = make_organisation(name="Theatergruppe")
    actor = make_user(organisations=[theatre])
    for n in range(22):
        make_booking(
            actor,
            small,
            datetime(2027, 3, 1, 8) + timedelta(days=n),
            title=f"Probe {n:02d}",
            organisation_id=theatre.id,
            now=NOW,
        )
    login_as(manager)

    first = client.get("/manage/requests").get_data(as_text=True)
    assert first.count('class="booking"') == 20
    assert "Page 1 of 2" in first or "Seite 1 von 2" in first
    # Grouped by room: the Aula's requests come before the Werkraum's (by name), each once.
    assert first.index(">Aula</a></h3>") < first.index(">Werkraum</a></h3>")
    assert first.count(">Werkraum</a></h3>") == 1
    second = client.get("/manage/requests?page=2").get_data(as_text=True)
    assert second.count('class="booking"') == 4
    assert "Probe 21" in second and "Probe 00" not in second

    by_room = client.get(f"/manage/requests?room={small.id}").get_data(as_text=True)
    assert "Chorprobe" not in by_room and by_room.count('class="booking"') == 20
    by_org = client.get(f"/manage/requests?organisation={theatre.id}&page=2").get_data(as_text=True)
    assert by_org.count('class="booking"') == 2 and "Lesung" not in by_org
    assert f"organisation={theatre.id}" in by_org  # the pager and forms keep the filter
    by_day = client.get("/manage/requests?date=2027-02-09").get_data(as_text=True)
    assert "Chorprobe" in by_day and "Lesung" in by_day and "Probe" not in by_day
    # The chosen day shows only that day's date of the series, still with its rival.
    assert by_day.count('name="occurrences"') == 2
    assert "Also requested by" in by_day or "Auch angefragt" in by_day
    nothing = client.get("/manage/requests?date=2030-01-01").get_data(as_text=True)
    assert 'class="booking"' not in nothing
    assert client.get(f"/manage/requests?site={scene['elsewhere'].room.site_id}").status_code == 404


def test_approving_declines_the_rivals_and_tells_their_requesters(
    client, login_as, db, scene, make_room, make_user, make_booking
):
    manager, series, rival = scene["manager"], scene["series"], scene["rival"]
    manager.language = "en"
    # A request at the same time on another manager's site is no rival.
    other_site = make_booking(
        make_user(), scene["elsewhere"].room, datetime(2027, 2, 9, 19), title="Nebenan", now=NOW
    )
    login_as(manager)
    page = client.get("/manage/requests").get_data(as_text=True)
    preview = page.split(f'id="rivals-{series.id}"')[1].split("</div>")[0]
    assert "Approving declines 1 competing date" in preview and "Lesung" in preview
    assert "Another group was given this time." in preview

    before = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    client.post(
        f"/manage/bookings/{series.id}/decide",
        data={"action": "approve", "rival_reason": "Die Aula ist vergeben."},
    )
    assert statuses(db, series) == ["approved"] * 3
    assert statuses(db, rival) == ["declined"]
    assert db.session.get(Occurrence, rival.occurrences[0].id).status_reason == (
        "Die Aula ist vergeben."
    )
    assert statuses(db, other_site) == ["pending"]
    outbox = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
    ).all()
    # One mail each: the approved requester and the declined rival's; nobody at the other site.
    assert sorted(m.recipient for m in outbox) == sorted(
        [series.requested_by.email, rival.requested_by.email]
    )
    [rival_mail] = [m for m in outbox if m.recipient == rival.requested_by.email]
    assert "Die Aula ist vergeben." in rival_mail.body_text


def test_approving_with_rivals_needs_a_reason_for_them(client, login_as, db, scene):
    login_as(scene["manager"])
    client.post(
        f"/manage/bookings/{scene['series'].id}/decide",
        data={"action": "approve", "rival_reason": "  "},
    )
    assert statuses(db, scene["series"]) == ["pending"] * 3
    assert statuses(db, scene["rival"]) == ["pending"]
