"""Managers see the approved bookings at their sites and cancel, move or reschedule their dates
(#11); the requester is told by mail each time. Managers of other sites see and do nothing."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.domain import Frequency, Recurrence
from booking.models import Occurrence, OutboxMessage

BERLIN = ZoneInfo("Europe/Berlin")
# Far enough ahead that "upcoming" holds whenever the tests run, on a Monday.
FIRST = datetime.now(BERLIN).date() + timedelta(days=30)
FIRST = FIRST + timedelta(days=(7 - FIRST.weekday()) % 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


@pytest.fixture
def scene(db, make_room, make_user, make_organisation, make_booking):
    aula = make_room(name="Aula")
    werkraum = make_room(aula.site, name="Werkraum")
    elsewhere = make_room(name="Fremder Saal")
    manager = make_user(name="Hausmeister", manages=[aula.site], language="en")
    other_manager = make_user(name="Nachbar", manages=[elsewhere.site], language="en")
    choir = make_organisation(name="Kammerchor")
    singer = make_user(
        name="Sängerin", email="saengerin@example.org", organisations=[choir], language="en"
    )
    series = make_booking(
        singer,
        aula,
        at(FIRST, 18),
        120,
        title="Chorprobe",
        organisation_id=choir.id,
        attendees=25,
        recurrence=Recurrence(Frequency.WEEKLY, count=3),
    )
    lesung = make_booking(make_user(), aula, at(FIRST + timedelta(days=1), 19), title="Lesung")
    werken = make_booking(make_user(), werkraum, at(FIRST + timedelta(days=2), 10), title="Werken")
    fremd = make_booking(singer, elsewhere, at(FIRST, 18), title="Anderswo")
    return {
        "aula": aula,
        "werkraum": werkraum,
        "manager": manager,
        "other_manager": other_manager,
        "singer": singer,
        "series": series,
        "lesung": lesung,
        "werken": werken,
        "fremd": fremd,
    }


def occurrences(db, booking) -> list[Occurrence]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Occurrence).where(Occurrence.booking_id == booking.id).order_by(Occurrence.id)
        )
    )


def statuses(db, booking) -> list[str]:
    return [o.status.value for o in occurrences(db, booking)]


def local_starts(db, booking) -> list[datetime]:
    return [o.starts_at.astimezone(BERLIN).replace(tzinfo=None) for o in occurrences(db, booking)]


def last_mail_id(db) -> int:
    return db.session.scalar(select(func.max(OutboxMessage.id))) or 0


def mails_since(db, before: int) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
        )
    )


def previewed(html: str) -> str:
    return re.search(r'name="previewed"[^>]*value="([0-9a-f]*)"', html).group(1)


def test_the_list_shows_the_bookings_of_the_managers_sites(client, login_as, scene):
    login_as(scene["manager"])
    html = client.get("/manage/bookings").get_data(as_text=True)
    assert "Chorprobe" in html and "Lesung" in html and "Werken" in html
    assert "Anderswo" not in html  # another site
    card = html.split(f'id="booking-{scene["series"].id}"')[1].split("</article>")[0]
    assert "Sängerin" in card and "saengerin@example.org" in card
    assert "Kammerchor" in card and "25 people" in card
    assert card.count("/manage/dates/") == 3  # each upcoming date can be moved
    assert "18:00" in card or "6:00" in card  # the site's wall time
    # Grouped by room: the Aula before the Werkraum, each once.
    assert html.index(">Aula</a></h3>") < html.index(">Werkraum</a></h3>")
    assert 'href="/manage/bookings"' in client.get("/manage").get_data(as_text=True)


def test_the_list_filters_by_room_and_dates_and_pages(
    client, login_as, scene, make_user, make_booking
):
    login_as(scene["manager"])
    by_room = client.get(f"/manage/bookings?room={scene['werkraum'].id}").get_data(as_text=True)
    assert "Werken" in by_room and "Chorprobe" not in by_room
    day = (FIRST + timedelta(days=1)).isoformat()
    by_day = client.get(f"/manage/bookings?from={day}&to={day}").get_data(as_text=True)
    assert "Lesung" in by_day and "Chorprobe" not in by_day and "Werken" not in by_day
    later = (FIRST + timedelta(days=3)).isoformat()
    from_later = client.get(f"/manage/bookings?from={later}").get_data(as_text=True)
    series_card = from_later.split(f'id="booking-{scene["series"].id}"')[1].split("</article>")[0]
    assert series_card.count("/manage/dates/") == 2  # only the dates in the range
    other_site = scene["fremd"].room.site_id
    assert client.get(f"/manage/bookings?site={other_site}").status_code == 404

    booker = make_user()
    for n in range(20):
        make_booking(booker, scene["werkraum"], at(FIRST + timedelta(days=n), 7), title=f"Früh {n}")
    first = client.get("/manage/bookings").get_data(as_text=True)
    assert first.count('class="booking"') == 20 and "Page 1 of 2" in first
    second = client.get("/manage/bookings?page=2").get_data(as_text=True)
    assert second.count('class="booking"') == 3


def test_a_manager_of_another_site_sees_and_does_nothing(client, login_as, db, scene):
    login_as(scene["other_manager"])
    html = client.get("/manage/bookings").get_data(as_text=True)
    assert "Chorprobe" not in html and "Anderswo" in html
    series = scene["series"]
    first = occurrences(db, series)[0]
    assert client.get(f"/manage/bookings/{series.id}/cancel").status_code == 404
    response = client.post(f"/manage/bookings/{series.id}/cancel", data={"reason": "Weg"})
    assert response.status_code == 404
    assert client.get(f"/manage/dates/{first.id}/move").status_code == 404
    response = client.post(
        f"/manage/dates/{first.id}/move",
        data={"day": FIRST.isoformat(), "start": "08:00", "end": "09:00", "preview": "y"},
    )
    assert response.status_code == 404
    assert client.post(f"/manage/bookings/{series.id}/series", data={}).status_code == 404
    assert statuses(db, series) == ["approved"] * 3


def test_the_requester_is_refused_on_the_managers_pages(client, login_as, db, scene):
    login_as(scene["singer"])
    assert client.get("/manage/bookings").status_code == 403
    series = scene["series"]
    response = client.post(f"/manage/bookings/{series.id}/cancel", data={"reason": "x"})
    assert response.status_code == 404
    assert statuses(db, series) == ["approved"] * 3


def test_cancel_one_date_with_a_reason_tells_the_requester(client, login_as, db, scene):
    login_as(scene["manager"])
    series = scene["series"]
    second = occurrences(db, series)[1]
    page = client.get(f"/manage/bookings/{series.id}/cancel?occurrence={second.id}")
    assert page.status_code == 200 and 'name="reason"' in page.get_data(as_text=True)

    # Without a reason nothing happens.
    url = f"/manage/bookings/{series.id}/cancel?occurrence={second.id}&room={scene['aula'].id}"
    assert client.post(url, data={"reason": "  "}).status_code == 422
    assert statuses(db, series) == ["approved"] * 3

    before = last_mail_id(db)
    response = client.post(url, data={"reason": "Elternabend in der Aula"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/manage/bookings?room={scene['aula'].id}#booking-{series.id}"
    )  # back to the filtered list
    assert statuses(db, series) == ["approved", "cancelled", "approved"]
    assert occurrences(db, series)[1].status_reason == "Elternabend in der Aula"
    [mail] = mails_since(db, before)
    assert mail.recipient == "saengerin@example.org"
    assert "Elternabend in der Aula" in mail.body_text and "Chorprobe" in mail.subject


def test_cancel_all_upcoming_dates(client, login_as, db, scene):
    login_as(scene["manager"])
    series = scene["series"]
    before = last_mail_id(db)
    page = client.get(f"/manage/bookings/{series.id}/cancel").get_data(as_text=True)
    assert "These 3 dates will be cancelled" in page
    response = client.post(f"/manage/bookings/{series.id}/cancel", data={"reason": "Umbau"})
    assert response.status_code == 302
    assert statuses(db, series) == ["cancelled"] * 3
    [mail] = mails_since(db, before)
    assert "Umbau" in mail.body_text
    assert statuses(db, scene["lesung"]) == ["approved"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cancelled 3 dates of “Chorprobe”" in html  # the flash message
    assert f'id="booking-{series.id}"' not in html


def test_move_preview_shows_a_conflict_and_writes_nothing(client, login_as, db, scene):
    login_as(scene["manager"])
    first = occurrences(db, scene["series"])[0]
    lesung_day = FIRST + timedelta(days=1)  # Lesung 19:00-20:00
    before = last_mail_id(db)
    response = client.post(
        f"/manage/dates/{first.id}/move",
        data={
            "day": lesung_day.isoformat(),
            "start": "18:30",
            "end": "20:30",
            "room": scene["aula"].id,
            "preview": "y",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "does not fit" in html and "Already booked at this time" in html
    assert "Change this date" not in html  # no confirm button for a date that does not fit
    assert local_starts(db, scene["series"])[0] == at(FIRST, 18)
    assert mails_since(db, before) == []

    # Confirming anyway (a forged form with the fingerprint) is refused by the service.
    response = client.post(
        f"/manage/dates/{first.id}/move",
        data={
            "day": lesung_day.isoformat(),
            "start": "18:30",
            "end": "20:30",
            "room": scene["aula"].id,
            "previewed": previewed(html),
            "confirm": "y",
        },
    )
    assert response.status_code == 409
    assert local_starts(db, scene["series"])[0] == at(FIRST, 18)
    assert mails_since(db, before) == []


def test_move_confirm_writes_and_tells_the_requester(client, login_as, db, scene):
    login_as(scene["manager"])
    first = occurrences(db, scene["series"])[0]
    form = {
        "day": (FIRST + timedelta(days=1)).isoformat(),
        "start": "16:00",
        "end": "18:00",
        "room": scene["werkraum"].id,
        "reason": "Die Aula wird gestrichen.",
    }
    page = client.get(f"/manage/dates/{first.id}/move").get_data(as_text=True)
    assert 'value="18:00"' in page  # the form starts from the date as it is
    preview = client.post(f"/manage/dates/{first.id}/move", data=form | {"preview": "y"})
    html = preview.get_data(as_text=True)
    assert "The new time is free." in html and "Change this date" in html
    assert local_starts(db, scene["series"])[0] == at(FIRST, 18)  # the preview wrote nothing

    # Changed details after the preview must be checked again.
    changed = form | {"end": "18:30", "previewed": previewed(html), "confirm": "y"}
    assert client.post(f"/manage/dates/{first.id}/move", data=changed).status_code == 200
    assert local_starts(db, scene["series"])[0] == at(FIRST, 18)

    before = last_mail_id(db)
    confirm = form | {"previewed": previewed(html), "confirm": "y"}
    response = client.post(f"/manage/dates/{first.id}/move", data=confirm)
    assert response.status_code == 302
    moved = occurrences(db, scene["series"])[0]
    assert local_starts(db, scene["series"])[0] == at(FIRST + timedelta(days=1), 16)
    assert moved.room_id == scene["werkraum"].id and moved.status.value == "approved"
    [mail] = mails_since(db, before)
    assert mail.recipient == "saengerin@example.org"
    assert "moved" in mail.subject.lower()
    assert "Die Aula wird gestrichen." in mail.body_text and "Werkraum" in mail.body_text
    assert "16:00" in mail.body_text and "18:00" in mail.body_text  # new and old times


def test_change_series_to_a_free_time(client, login_as, db, scene):
    login_as(scene["manager"])
    series = scene["series"]
    url = f"/manage/bookings/{series.id}/series"
    page = client.get(url).get_data(as_text=True)
    assert 'value="18:00"' in page and f'value="{FIRST.isoformat()}"' in page
    form = {"day": FIRST.isoformat(), "start": "15:00", "end": "16:30", "room": scene["aula"].id}
    html = client.post(url, data=form | {"preview": "y"}).get_data(as_text=True)
    assert "All 3 new times are free." in html
    before = last_mail_id(db)
    response = client.post(url, data=form | {"previewed": previewed(html), "confirm": "y"})
    assert response.status_code == 302
    assert local_starts(db, series) == [at(FIRST + timedelta(weeks=n), 15) for n in range(3)]
    [mail] = mails_since(db, before)
    assert mail.recipient == "saengerin@example.org" and mail.body_text.count("before:") == 3


def test_change_series_to_a_taken_time_shows_the_conflicts(
    client, login_as, db, scene, make_user, make_booking
):
    week_two = FIRST + timedelta(weeks=1)
    make_booking(make_user(), scene["aula"], at(week_two, 20), title="Konzert")
    login_as(scene["manager"])
    series = scene["series"]
    url = f"/manage/bookings/{series.id}/series"
    form = {"day": FIRST.isoformat(), "start": "19:00", "end": "21:00", "room": scene["aula"].id}
    before = last_mail_id(db)
    response = client.post(url, data=form | {"preview": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 date does not fit" in html and "Already booked at this time" in html
    blocked = html.split('class="blocked"')[1].split("</tr>")[0]
    assert str(week_two.day) in blocked
    assert "Change these" not in html  # nothing to confirm while a date does not fit
    response = client.post(url, data=form | {"previewed": previewed(html), "confirm": "y"})
    assert response.status_code == 409
    assert "Nothing was changed." in response.get_data(as_text=True)
    assert local_starts(db, series) == [at(FIRST + timedelta(weeks=n), 18) for n in range(3)]
    assert mails_since(db, before) == []
