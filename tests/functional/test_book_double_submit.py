"""The booking form books once per form: a double tap or Back and "Book" again lands on the
first booking's page; a newly shown form can book the same again on purpose."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from booking.models import ApprovalPolicy, Booking
from tests.conftest import PASSWORD

FIELDS = {
    "start": "18:00",
    "end": "20:00",
    "title": "Chorprobe",
    "attendees": "12",
    "organisation": "",
    "repeat": "weekly",
    "limit": "count",
    "count": "3",
    "house_rules_accepted": "y",
}


def first_date() -> date:
    today = date.today()
    return today + timedelta(days=14 - today.weekday())  # a Monday, one to two weeks ahead


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
    assert match, f"no hidden {name} in the page"
    return match.group(1)


def bookings(db) -> list[Booking]:
    db.session.rollback()
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


@pytest.fixture
def requester(make_user, login_as):
    return login_as(make_user(language="en"))


@pytest.fixture
def room(make_room):
    # Pending requests do not block each other: a second identical booking would be possible.
    return make_room(approval_policy=ApprovalPolicy.MANUAL, house_rules="Chairs back, please.")


class Form:
    """The booking form as a browser holds it: the fields and the hidden values of its page."""

    def __init__(self, client, room, **fields):
        self.client, self.url = client, f"/rooms/{room.id}/book"
        self.data = {"date": first_date().isoformat(), **FIELDS, **fields}
        shown = client.get(self.url)
        assert shown.status_code == 200
        self.data["submission"] = hidden(shown.text, "submission")

    def preview(self):
        response = self.client.post(self.url, data={**self.data, "preview": "y"})
        assert response.status_code == 200, response.text
        self.data["previewed"] = hidden(response.text, "previewed")
        self.data["submission"] = hidden(response.text, "submission")
        return response

    def book(self):
        return self.client.post(self.url, data={**self.data, "book": "y"})


def test_each_shown_form_carries_a_new_key_kept_through_the_preview(client, requester, room):
    form = Form(client, room)
    key = form.data["submission"]
    assert len(key) >= 22
    form.preview()
    assert form.data["submission"] == key
    assert Form(client, room).data["submission"] != key


def test_two_posts_of_one_form_make_one_booking_and_the_same_page(client, db, requester, room):
    form = Form(client, room)
    form.preview()

    first = form.book()
    second = form.book()  # the double tap, or Back and "Book" again

    assert first.status_code == 302
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    (booking,) = bookings(db)
    assert first.headers["Location"].endswith(f"/my/bookings/{booking.id}/received")
    assert len(booking.occurrences) == 3
    page = client.get(second.headers["Location"])
    assert page.status_code == 200
    assert "Chorprobe" in page.text


def test_a_new_form_can_book_the_same_again_on_purpose(client, db, requester, room):
    form = Form(client, room)
    form.preview()
    first = form.book()

    again = Form(client, room)
    again.preview()
    second = again.book()

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] != second.headers["Location"]
    assert [b.title for b in bookings(db)] == ["Chorprobe", "Chorprobe"]


def test_a_used_form_with_changed_details_asks_once_more(client, db, requester, room):
    form = Form(client, room)
    form.preview()
    assert form.book().status_code == 302
    used_key = form.data["submission"]

    # Back to the preview page, another title, shown again, "Book".
    form.data["title"] = "Stimmbildung"
    form.preview()
    asked = form.book()

    assert asked.status_code == 422
    assert "You have already sent this form once" in asked.text
    assert "Stimmbildung" in asked.text  # nothing typed is lost
    assert [b.title for b in bookings(db)] == ["Chorprobe"]
    fresh = hidden(asked.text, "submission")
    assert fresh != used_key

    form.data["submission"] = fresh
    form.data["previewed"] = hidden(asked.text, "previewed")
    done = form.book()
    assert done.status_code == 302
    assert [b.title for b in bookings(db)] == ["Chorprobe", "Stimmbildung"]


def test_another_users_form_key_shows_nothing_of_theirs(
    client, new_client, db, make_user, login_as, room
):
    owner = login_as(make_user(language="en"))
    form = Form(client, room, title="Vorstandssitzung")
    form.preview()
    owners = form.book()
    assert owners.status_code == 302

    other_client = new_client()
    other = make_user(language="en")
    db.session.commit()
    logged_in = other_client.post("/login", data={"email": other.email, "password": PASSWORD})
    assert logged_in.status_code == 302
    theirs = other_client.post(f"/rooms/{room.id}/book", data={**form.data, "book": "y"})

    assert theirs.status_code == 302
    assert theirs.headers["Location"] != owners.headers["Location"]
    first, second = bookings(db)
    assert (first.requested_by_id, second.requested_by_id) == (owner.id, other.id)


def test_a_form_without_a_key_still_books(client, db, requester, room):
    form = Form(client, room)
    del form.data["submission"]
    response = client.post(form.url, data={**form.data, "preview": "y"})
    assert len(hidden(response.text, "submission")) >= 22  # the page carries one from now on
    form.data["previewed"] = hidden(response.text, "previewed")
    assert form.book().status_code == 302
    assert len(bookings(db)) == 1


def test_a_mangled_key_is_replaced_not_trusted(client, db, requester, room):
    form = Form(client, room)
    form.data["submission"] = 'x" onclick="alert(1)'
    response = form.preview()
    assert "onclick" not in response.text
    assert form.data["submission"] != 'x" onclick="alert(1)'
    assert form.book().status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
