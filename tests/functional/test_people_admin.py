"""People and organisations administration (#11): admins find people, deactivate and
reactivate accounts (a deactivated person is locked out everywhere: login, session, API
tokens, calendar feed), grant and take administrator rights, send reset links, assign and
remove site managers, and keep the directory of organisations with its trusted flag. Every
change leaves an audit row."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.api.tokens import create_token
from booking.feeds.service import issue_token
from booking.models import (
    ApprovalPolicy,
    AuditEvent,
    MemberRole,
    Membership,
    OccurrenceStatus,
    User,
)
from booking.services import accounts, mail, people
from booking.services.errors import InvalidRequest, NotPermitted

PASSWORD = "correct horse battery"
EN = {"Accept-Language": "en"}
SOON = (datetime.now(UTC) + timedelta(days=40)).replace(hour=16, minute=0, second=0, microsecond=0)


def audit_rows(db, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def log_in(client, user, password: str = PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password}, headers=EN)


@pytest.fixture
def admin(make_user):
    return make_user(name="Ada Admin", email="ada@stadt.example", is_admin=True, language="en")


@pytest.fixture
def admin_client(new_client, admin, db):
    db.session.commit()
    client = new_client()
    assert log_in(client, admin).status_code == 302
    return client


# Finding people ----------------------------------------------------------------------------


def test_admin_searches_people_by_name_or_address_and_filters_them(
    admin_client, make_user, make_site
):
    site = make_site(name="Grundschule Nord")
    make_user(name="Anna Becker", email="anna@verein.example")
    make_user(name="Bert Klein", email="bert@anna-fans.example", manages=[site])
    make_user(name="Carla Zorn", email="carla@example.org", active=False)

    page = admin_client.get("/admin/users?q=ANNA").get_data(as_text=True)
    assert "Anna Becker" in page and "Bert Klein" in page  # name or address
    assert "Carla Zorn" not in page
    assert "2 people found" in page

    page = admin_client.get("/admin/users?show=inactive").get_data(as_text=True)
    assert "Carla Zorn" in page and "deactivated" in page
    assert "Anna Becker" not in page

    page = admin_client.get("/admin/users?show=managers").get_data(as_text=True)
    assert "Bert Klein" in page and "manages 1 site" in page and "Anna Becker" not in page

    page = admin_client.get("/admin/users?show=admins").get_data(as_text=True)
    assert "Ada Admin" in page and "Bert Klein" not in page

    # "%" and "_" are letters, not wildcards.
    assert "0 people found" in admin_client.get("/admin/users?q=%25").get_data(as_text=True)


def test_people_list_is_paged(admin_client, make_user):
    for n in range(30):
        make_user(name=f"Mitglied {n:02d}")
    first = admin_client.get("/admin/users?q=mitglied").get_data(as_text=True)
    assert "30 people found" in first and "Page 1 of 2" in first
    assert "Mitglied 00" in first and "Mitglied 29" not in first
    following = re.search(r'<a rel="next" href="/admin/users\?([^"]+)"', first)[1]
    assert sorted(following.split("&amp;")) == ["page=2", "q=mitglied"]  # the search is kept
    second = admin_client.get("/admin/users?q=mitglied&page=2").get_data(as_text=True)
    assert "Mitglied 29" in second and "Mitglied 00" not in second
    past = admin_client.get("/admin/users?q=mitglied&page=3").get_data(as_text=True)
    assert "This page is past the end of the list." in past


def test_bad_search_input_is_answered_next_to_the_field(admin_client):
    response = admin_client.get("/admin/users?show=everyone")
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    response = admin_client.get("/admin/users?q=" + "x" * 201)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert admin_client.get("/admin/users?page=0").status_code == 200  # the first page
    assert admin_client.get("/admin/users?page=x").status_code == 200
    assert admin_client.get("/admin/organisations?trusted=maybe").status_code == 422


def test_detail_shows_memberships_sites_and_last_login(
    admin_client, make_user, make_site, make_organisation, new_client
):
    site = make_site(name="Bürgerhaus West")
    organisation = make_organisation(name="Chor Harmonie")
    person = make_user(name="Dora Fink", manages=[site], language="en")
    person.memberships.append(Membership(organisation=organisation, role=MemberRole.ADMIN))
    page = admin_client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Bürgerhaus West" in page and "Chor Harmonie" in page and "never" in page
    assert log_in(new_client(), person).status_code == 302
    page = admin_client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "never" not in page
    assert admin_client.get("/admin/users/999999").status_code == 404


# Deactivating ------------------------------------------------------------------------------


def test_deactivated_person_is_locked_out_everywhere(
    admin_client, make_user, new_client, db, admin
):
    person = make_user(name="Egon Frei", language="en")
    _, api_token = create_token(person, "script")
    feed_token = issue_token(person)
    db.session.commit()
    session = new_client()
    assert log_in(session, person).status_code == 302
    assert session.get("/my/bookings").status_code == 200
    api = {"Authorization": f"Bearer {api_token}"}
    assert new_client().get("/api/v1/bookings", headers=api).status_code == 200
    assert new_client().get(f"/ical/feed/{feed_token}.ics").status_code == 200

    response = admin_client.post(f"/admin/users/{person.id}", data={"action": "deactivate"})
    assert response.status_code == 302
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "Egon Frei is deactivated and can no longer log in." in page

    # The old session cookie opens nothing any more.
    for page in ("/profile", "/my/bookings"):
        response = session.get(page)
        assert response.status_code == 302 and "/login" in response.location
    # Login is refused with a clear message, but only for the right password.
    response = log_in(new_client(), person)
    assert response.status_code == 422
    assert "This account is deactivated." in response.get_data(as_text=True)
    response = log_in(new_client(), person, "wrong password!!")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "The e-mail address or the password is not right." in body
    assert "deactivated" not in body
    # API tokens answer 401, the personal feed is gone.
    response = new_client().get("/api/v1/bookings", headers=api)
    assert response.status_code == 401
    assert new_client().get(f"/ical/feed/{feed_token}.ics").status_code == 404

    [event] = audit_rows(db, "user_deactivated")
    assert (event.user_id, event.actor_id) == (person.id, admin.id)

    # Reactivating brings everything back.
    response = admin_client.post(f"/admin/users/{person.id}", data={"action": "reactivate"})
    assert response.status_code == 302
    assert "Egon Frei can log in again." in admin_client.get(response.location).get_data(
        as_text=True
    )
    assert log_in(new_client(), person).status_code == 302
    assert new_client().get("/api/v1/bookings", headers=api).status_code == 200
    assert new_client().get(f"/ical/feed/{feed_token}.ics").status_code == 200
    [event] = audit_rows(db, "user_reactivated")
    assert event.user_id == person.id


def test_deactivating_twice_changes_nothing(admin_client, make_user, db):
    person = make_user(name="Fritz Gut", active=False)
    response = admin_client.post(f"/admin/users/{person.id}", data={"action": "deactivate"})
    assert "Fritz Gut was already deactivated." in admin_client.get(response.location).get_data(
        as_text=True
    )
    assert audit_rows(db, "user_deactivated") == []


def test_admin_cannot_deactivate_themself(admin_client, admin, db):
    response = admin_client.post(f"/admin/users/{admin.id}", data={"action": "deactivate"})
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.active
    assert admin_client.get("/my/bookings").status_code == 200


def test_unknown_action_is_refused(admin_client, make_user, db):
    person = make_user()
    response = admin_client.post(f"/admin/users/{person.id}", data={"action": "delete"})
    assert response.status_code == 422
    assert "Please use one of the buttons on this page." in response.get_data(as_text=True)
    db.session.expire_all()
    assert person.active


# Administrator rights ----------------------------------------------------------------------


def test_last_admin_keeps_the_rights(admin_client, admin, make_user, db):
    response = admin_client.post(f"/admin/users/{admin.id}", data={"action": "revoke_admin"})
    assert response.status_code == 422
    assert "Ada Admin is the last active administrator." in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.is_admin
    assert audit_rows(db, "admin_revoked") == []

    other = make_user(name="Gerd Hahn")
    response = admin_client.post(f"/admin/users/{other.id}", data={"action": "grant_admin"})
    assert response.status_code == 302
    assert "Gerd Hahn is now an administrator." in admin_client.get(response.location).get_data(
        as_text=True
    )
    [granted] = audit_rows(db, "admin_granted")
    assert granted.user_id == other.id

    # With a second administrator, the first may step down.
    response = admin_client.post(f"/admin/users/{admin.id}", data={"action": "revoke_admin"})
    assert response.status_code == 302
    db.session.expire_all()
    assert not admin.is_admin and other.is_admin
    [revoked] = audit_rows(db, "admin_revoked")
    assert revoked.user_id == admin.id
    assert admin_client.get("/admin/users").status_code == 403  # effective at once


def test_an_inactive_admin_does_not_count(db, make_user):
    only = make_user(is_admin=True)
    make_user(is_admin=True, active=False)
    with pytest.raises(InvalidRequest) as refused:
        people.set_admin(accounts.system_user(), only.id, False)
    assert refused.value.code == "last_admin"
    with pytest.raises(InvalidRequest) as refused:
        people.deactivate_user(accounts.system_user(), only.id)
    assert refused.value.code == "last_admin"


def test_services_are_for_administrators_only(db, make_user, make_site, make_organisation):
    site = make_site()
    manager = make_user(manages=[site])
    organisation = make_organisation()
    for call in (
        lambda: people.list_users(manager),
        lambda: people.user_detail(manager, manager.id),
        lambda: people.deactivate_user(manager, manager.id),
        lambda: people.set_admin(manager, manager.id, True),
        lambda: people.send_password_reset(manager, manager.id),
        lambda: people.assign_manager(manager, site.id, manager.email),
        lambda: people.remove_manager(manager, site.id, manager.id),
        lambda: people.list_organisations(manager),
        lambda: people.organisation_detail(manager, organisation.id),
        lambda: people.set_trusted(manager, organisation.id, True),
    ):
        with pytest.raises(NotPermitted):
            call()
    # A site's managers may see who else manages it, nobody else.
    assert people.site_managers(manager, site.id)[1] == [manager]
    with pytest.raises(NotPermitted):
        people.site_managers(manager, make_site().id)


# Reset links -------------------------------------------------------------------------------


def test_reset_link_reaches_the_person_and_works(
    app, admin_client, make_user, db, smtp, new_client
):
    person = make_user(name="Hanna Iser", email="hanna@example.org", language="de")
    response = admin_client.post(f"/admin/users/{person.id}", data={"action": "send_reset"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "on its way to hanna@example.org" in admin_client.get(response.location).get_data(
        as_text=True
    )

    with app.app_context():
        assert mail.send_pending(mail.MailSettings.from_config(app.config))["sent"] == 1
    [(recipients, message)] = smtp.messages
    assert recipients == ["hanna@example.org"]
    assert message["Subject"] == "Passwort zurücksetzen"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hallo Hanna Iser,")
    link = next(w for w in body.split() if "/password-reset/" in w)
    path = link.removeprefix("http://raumboerse.test")
    visitor = new_client()
    assert visitor.get(path).status_code == 200
    new = "ein ganz neues Passwort"
    response = visitor.post(path, data={"password": new, "confirm": new})
    assert response.status_code == 302
    assert log_in(new_client(), person, new).status_code == 302
    [event] = audit_rows(db, "password_reset_sent")
    assert event.user_id == person.id


def test_no_reset_link_for_a_deactivated_account(admin_client, make_user, db):
    person = make_user(active=False)
    response = admin_client.post(f"/admin/users/{person.id}", data={"action": "send_reset"})
    assert response.status_code == 422
    assert "Reactivate it before sending a reset link." in response.get_data(as_text=True)
    assert audit_rows(db, "password_reset_sent") == []


# Site managers -----------------------------------------------------------------------------


def test_assigning_a_manager_opens_the_sites_requests_and_removing_closes_them(
    admin_client, make_user, make_site, new_client, db
):
    site = make_site(name="Realschule Süd")
    other_site = make_site(name="Stadtbücherei")
    person = make_user(name="Ines Jung", email="ines@example.org", language="en")
    theirs = new_client()
    assert log_in(theirs, person).status_code == 302
    assert theirs.get(f"/manage/requests?site={site.id}").status_code == 403

    response = admin_client.post(
        f"/admin/sites/{site.id}/managers", data={"email": " Ines@Example.org "}
    )
    assert response.status_code == 302
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "Ines Jung now manages this site." in page
    assert theirs.get(f"/manage/requests?site={site.id}").status_code == 200
    assert theirs.get(f"/manage/requests?site={other_site.id}").status_code == 404
    [event] = audit_rows(db, "manager_assigned")
    assert (event.site_id, event.user_id) == (site.id, person.id)
    page = admin_client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Made manager of a site · Ada Admin · Realschule Süd" in page

    # The manager sees who manages the site, but cannot change it.
    page = theirs.get(f"/admin/sites/{site.id}/managers").get_data(as_text=True)
    assert "Ines Jung" in page and "Add a manager" not in page and "Remove" not in page
    assert theirs.get(f"/admin/sites/{other_site.id}/managers").status_code == 403
    response = theirs.post(f"/admin/sites/{site.id}/managers", data={"email": "x@example.org"})
    assert response.status_code == 403

    response = admin_client.post(f"/admin/sites/{site.id}/managers/{person.id}/remove")
    assert response.status_code == 302
    assert "Ines Jung no longer manages this site." in admin_client.get(response.location).get_data(
        as_text=True
    )
    assert theirs.get(f"/manage/requests?site={site.id}").status_code == 403
    [event] = audit_rows(db, "manager_removed")
    assert (event.site_id, event.user_id) == (site.id, person.id)
    # Removing again: not a manager any more.
    response = admin_client.post(f"/admin/sites/{site.id}/managers/{person.id}/remove")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("email", "field", "message"),
    [
        ("", "email", "Please enter the e-mail address of the new manager."),
        ("no-address", "email", "This e-mail address is not valid."),
        ("nobody@example.org", "name", "Enter the person's name as well to invite them."),
        ("kai@example.org", "email", "Kai Lang already manages this site."),
        ("lea@example.org", "email", "The account of Lea Mohn is deactivated."),
    ],
)
def test_adding_a_manager_explains_what_is_wrong(
    admin_client, make_user, make_site, db, email, field, message
):
    site = make_site()
    make_user(name="Kai Lang", email="kai@example.org", manages=[site])
    make_user(name="Lea Mohn", email="lea@example.org", active=False)
    response = admin_client.post(f"/admin/sites/{site.id}/managers", data={"email": email})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message.replace("'", "&#39;") in body
    assert f'id="{field}-error"' in body
    assert audit_rows(db, "manager_assigned") == []
    assert db.session.scalar(select(func.count()).select_from(User)) == 3


def test_a_new_manager_without_an_account_is_invited_and_can_start(
    app, admin_client, make_site, db, smtp, new_client
):
    """The issue's "hand it to a new manager": the admin enters a name and an address nobody
    has registered; the person gets a mail, chooses a password and runs the site."""
    site = make_site(name="Grundschule Lössel")
    response = admin_client.post(
        f"/admin/sites/{site.id}/managers",
        data={"email": "Hausmeister@Example.org", "name": "Jonas Brandt"},
    )
    assert response.status_code == 302
    page = admin_client.get(response.location).get_data(as_text=True)
    assert "Jonas Brandt now manages this site and has been sent a link" in page
    person = db.session.scalar(select(User).where(User.email == "hausmeister@example.org"))
    assert [s.id for s in person.managed_sites] == [site.id]
    assert [e.action for e in audit_rows(db, "user_invited")] == ["user_invited"]

    with app.app_context():
        assert mail.send_pending(mail.MailSettings.from_config(app.config))["sent"] == 1
    [(recipients, message)] = smtp.messages
    assert recipients == ["hausmeister@example.org"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hallo Jonas Brandt,")
    words = " ".join(body.split())
    assert "Grundschule Lössel" in words and "7 Tage" in words
    link = next(w for w in body.split() if "/password-reset/" in w)
    visitor = new_client()
    password = "mein neues Passwort"
    path = link.removeprefix("http://raumboerse.test")
    assert visitor.post(path, data={"password": password, "confirm": password}).status_code == 302
    theirs = new_client()
    assert log_in(theirs, person, password).status_code == 302
    assert theirs.get(f"/manage/requests?site={site.id}").status_code == 200
    # Inviting the same address again finds the account (no second one, no second mail).
    other = make_site(name="Hauptschule")
    response = admin_client.post(
        f"/admin/sites/{other.id}/managers",
        data={"email": "hausmeister@example.org", "name": "Jonas Brandt"},
    )
    assert response.status_code == 302
    assert len(audit_rows(db, "user_invited")) == 1


# Organisations -----------------------------------------------------------------------------


def test_organisation_directory_counts_members_and_upcoming_bookings(
    admin_client, make_user, make_organisation, make_room, make_booking
):
    room = make_room()
    choir = make_organisation(name="Chor Harmonie")
    make_organisation(name="Turnverein 1880", trusted=True)
    singer = make_user(organisations=[choir])
    make_user(organisations=[choir])
    make_booking(
        singer, room, SOON, organisation_id=choir.id, title="Chorprobe", now=datetime.now(UTC)
    )

    page = admin_client.get("/admin/organisations").get_data(as_text=True)
    assert "2 organisations found" in page
    choir_row = page.split("Chor Harmonie", 1)[1].split("</tr>", 1)[0]
    assert [cell.split("</td>")[0] for cell in choir_row.split("<td>")[1:]] == ["no", "2", "1"]

    page = admin_client.get("/admin/organisations?trusted=trusted").get_data(as_text=True)
    assert "Turnverein 1880" in page and "Chor Harmonie" not in page
    page = admin_client.get("/admin/organisations?q=harmo").get_data(as_text=True)
    assert "Chor Harmonie" in page and "Turnverein 1880" not in page

    page = admin_client.get(f"/admin/organisations/{choir.id}").get_data(as_text=True)
    assert singer.name in page and "Chorprobe" in page and room.name in page
    assert admin_client.get("/admin/organisations/999999").status_code == 404


def test_trusted_flag_decides_the_approval_of_trusted_policy_rooms(
    admin_client, make_user, make_organisation, make_room, make_booking, db, admin
):
    room = make_room(approval_policy=ApprovalPolicy.TRUSTED)
    club = make_organisation(name="Schachclub")
    member = make_user(organisations=[club])
    now = datetime.now(UTC)

    before = make_booking(member, room, SOON, organisation_id=club.id, now=now)
    assert before.occurrences[0].status is OccurrenceStatus.PENDING

    response = admin_client.post(f"/admin/organisations/{club.id}", data={"trusted": "1"})
    assert response.status_code == 302
    assert "Schachclub is trusted now" in admin_client.get(response.location).get_data(as_text=True)
    after = make_booking(member, room, SOON + timedelta(days=1), organisation_id=club.id, now=now)
    assert after.occurrences[0].status is OccurrenceStatus.APPROVED
    [event] = audit_rows(db, "organisation_trusted")
    assert (event.organisation_id, event.actor_id) == (club.id, admin.id)

    response = admin_client.post(f"/admin/organisations/{club.id}", data={"trusted": "0"})
    assert response.status_code == 302
    again = make_booking(member, room, SOON + timedelta(days=2), organisation_id=club.id, now=now)
    assert again.occurrences[0].status is OccurrenceStatus.PENDING
    [event] = audit_rows(db, "organisation_untrusted")
    assert event.organisation_id == club.id

    response = admin_client.post(f"/admin/organisations/{club.id}", data={"trusted": "maybe"})
    assert response.status_code == 422


def test_admin_index_links_people_and_managers(admin_client, make_site):
    site = make_site()
    page = admin_client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/users"' in page and 'href="/admin/organisations"' in page
    assert f'href="/admin/sites/{site.id}/managers"' in page
