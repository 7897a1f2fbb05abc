"""A manager chooses on their profile how they hear of new requests: a mail each, a daily
summary or none. Other users never see the choice."""

from __future__ import annotations

import re

from sqlalchemy import select

from booking.models import RequestMails, User


def choose(client, value: str | None):
    data = {"mails-submit": "1"}
    if value is not None:
        data["mails-request_mails"] = value
    return client.post("/profile", data=data)


def saved_choice(db, user) -> RequestMails:
    db.session.expire_all()
    return db.session.scalar(select(User.request_mails).where(User.id == user.id))


def test_a_manager_chooses_a_daily_summary(client, db, login_as, make_user, make_site):
    manager = login_as(make_user(language="en", manages=[make_site()]))
    page = client.get("/profile").get_data(as_text=True)
    assert "E-mails about requests" in page
    # The current choice is checked; every choice has its own label.
    assert re.search(r'<input checked id="mails-request_mails-0"[^>]*value="each"', page)
    for n, label in enumerate(
        (
            "An e-mail for each new request",
            "One daily summary of the new requests",
            "No e-mails (I look at the open requests myself)",
        )
    ):
        assert f'<label for="mails-request_mails-{n}">{label}</label>' in page

    response = choose(client, "digest")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/profile")
    assert saved_choice(db, manager) is RequestMails.DIGEST
    page = client.get("/profile").get_data(as_text=True)
    assert "Your choice of e-mails about requests is saved." in page
    assert re.search(r'<input checked id="mails-request_mails-1"[^>]*value="digest"', page)

    assert choose(client, "none").status_code == 302
    assert saved_choice(db, manager) is RequestMails.NONE


def test_an_unknown_or_missing_choice_is_refused_next_to_the_field(
    client, db, login_as, make_user, make_site
):
    manager = login_as(make_user(language="en", manages=[make_site()]))
    for value in ("weekly", None):
        response = choose(client, value)
        page = response.get_data(as_text=True)
        assert response.status_code == 422
        error = re.search(r'<p class="field-error" id="mails-request_mails-error">(.*?)</p>', page)
        assert error is not None
        assert "Please choose how you want to hear about new requests." in error.group(1)
        # The group of choices names its error for screen readers.
        assert re.search(
            r'<fieldset[^>]*id="mails-request_mails-group"[^>]*'
            r'aria-describedby="[^"]*mails-request_mails-error',
            page,
        )
        assert saved_choice(db, manager) is RequestMails.EACH


def test_an_admin_chooses_too(client, db, login_as, make_user):
    admin = login_as(make_user(language="en", is_admin=True))
    assert "E-mails about requests" in client.get("/profile").get_data(as_text=True)
    assert choose(client, "none").status_code == 302
    assert saved_choice(db, admin) is RequestMails.NONE


def test_people_who_manage_nothing_have_no_choice(client, db, login_as, make_user):
    member = login_as(make_user(language="en"))
    page = client.get("/profile").get_data(as_text=True)
    assert "E-mails about requests" not in page
    assert "mails-request_mails" not in page
    assert choose(client, "none").status_code == 403
    assert saved_choice(db, member) is RequestMails.EACH


def test_the_other_profile_forms_keep_the_choice(client, db, login_as, make_user, make_site):
    manager = login_as(make_user(language="en", manages=[make_site()]))
    choose(client, "digest")
    response = client.post(
        "/profile",
        data={"profile-submit": "1", "profile-name": "", "profile-language": "en"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<input checked id="mails-request_mails-1"[^>]*value="digest"', page)
    assert saved_choice(db, manager) is RequestMails.DIGEST
