"""Organisations: creating one, inviting and removing members, and who may do that."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from booking.models import MemberInvitation, MemberRole, Membership, Organisation
from booking.services import organisations as service
from booking.services.errors import InvalidRequest, NotFound, NotPermitted
from tests.conftest import PASSWORD
from tests.mails import last_mail_to


@pytest.fixture
def client(new_client):
    """Every request loads its user afresh, as in production (see ``new_client``)."""
    return new_client()


def login(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def create(client, **overrides):
    data = {
        "name": "Chor Hennen",
        "kind": "association",
        "district": "Hennen",
        "description": "Wir singen.",
        "website": "https://chor.example.org",
    } | overrides
    return client.post("/organisations/new", data=data)


def test_creator_becomes_admin_and_sees_it_in_my_organisations(client, db, make_user):
    anna = make_user(email="anna@example.org")
    login(client, anna)
    response = create(client)
    assert response.status_code == 302
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Chor Hennen"))
    assert organisation is not None
    assert [(m.user_id, m.role) for m in organisation.memberships] == [(anna.id, MemberRole.ADMIN)]
    page = client.get("/organisations").get_data(as_text=True)
    assert "Chor Hennen" in page and "Sie sind Admin" in page


def test_create_shows_field_errors(client, make_user, make_organisation):
    make_organisation(name="Chor Hennen")
    login(client, make_user())
    response = create(client, name="chor hennen")
    assert response.status_code == 422
    assert "Eine Organisation mit diesem Namen gibt es schon." in response.get_data(as_text=True)
    response = create(client, name="Neu", kind="secret-society")
    assert response.status_code == 422
    response = create(client, name="Neu", website="javascript:alert(1)")
    assert response.status_code == 422
    assert "https://" in response.get_data(as_text=True)


def invitation_link(db, address: str) -> str:
    body = last_mail_to(db, address).body_text
    return re.search(r"https?://[^/\s]+(/organisations/invitations/\S+)", body)[1]


def test_an_invitation_tells_the_inviter_nothing_and_needs_a_yes(client, new_client, db, make_user):
    anna = make_user(email="anna@example.org")
    bert = make_user(email="bert@example.org", name="Bert Bass")
    login(client, anna)
    create(client)
    organisation = db.session.scalar(select(Organisation))
    known = client.post(
        f"/organisations/{organisation.id}/members", data={"email": "BERT@example.org"}
    )
    unknown = client.post(
        f"/organisations/{organisation.id}/members", data={"email": "nobody@example.org"}
    )
    # The same answer for an address with an account and one without; no name is shown.
    assert known.status_code == unknown.status_code == 302
    page = client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    assert "Bert Bass" not in page
    assert "bert@example.org" in page and "nobody@example.org" in page  # as typed, pending
    assert {m.user_id for m in organisation.memberships} == {anna.id}  # nobody added yet

    # Bert gets a mail in his language, opens the link, logs in and accepts.
    link = invitation_link(db, "bert@example.org")
    assert "Chor Hennen" in last_mail_to(db, "bert@example.org").subject
    bert_browser = new_client()
    page = bert_browser.get(link)
    assert page.status_code == 200 and "Chor Hennen" in page.get_data(as_text=True)
    to_login = bert_browser.post(link, data={"answer": "accept"})
    assert to_login.status_code == 303 and "/login" in to_login.location
    logged_in = bert_browser.post(
        to_login.location, data={"email": bert.email, "password": PASSWORD}
    )
    assert logged_in.location == link
    accepted = bert_browser.post(link, data={"answer": "accept"})
    assert accepted.status_code == 303
    db.session.expire_all()
    assert {m.user_id for m in organisation.memberships} == {anna.id, bert.id}
    assert "Bert Bass" in client.get(f"/organisations/{organisation.id}").get_data(as_text=True)
    assert bert_browser.get(link).status_code == 410  # used
    told = last_mail_to(db, "anna@example.org")  # the inviter hears of the answer
    assert told.subject == "Einladung angenommen: Chor Hennen"
    assert "Bert Bass" in told.body_text

    # The address without an account declines without logging in; nothing changes.
    other_link = invitation_link(db, "nobody@example.org")
    declined = new_client().post(other_link, data={"answer": "decline"})
    assert declined.status_code == 303
    assert new_client().get(other_link).status_code == 410
    told = last_mail_to(db, "anna@example.org")
    assert told.subject == "Einladung abgelehnt: Chor Hennen"
    assert "nobody@example.org" in told.body_text
    db.session.expire_all()
    assert len(organisation.memberships) == 2

    response = client.post(f"/organisations/{organisation.id}/members/{bert.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert {m.user_id for m in organisation.memberships} == {anna.id}


def test_inviting_again_replaces_the_link_and_withdrawing_ends_it(client, db, make_user):
    anna = make_user(email="anna@example.org")
    login(client, anna)
    create(client)
    organisation = db.session.scalar(select(Organisation))
    url = f"/organisations/{organisation.id}/members"
    client.post(url, data={"email": "carla@example.org"})
    first = invitation_link(db, "carla@example.org")
    client.post(url, data={"email": "carla@example.org", "admin": "y"})
    second = invitation_link(db, "carla@example.org")
    assert first != second
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    invitation = db.session.scalars(select(MemberInvitation)).one()
    assert invitation.role is MemberRole.ADMIN
    response = client.post(f"/organisations/{organisation.id}/invitations/{invitation.id}/withdraw")
    assert response.status_code == 303
    assert client.get(second).status_code == 410
    response = client.post(url, data={"email": "not an address"})
    assert response.status_code == 422
    assert 'value="not an address"' in response.get_data(as_text=True)


def test_a_user_can_belong_to_several_organisations(db, make_user, make_organisation):
    anna = make_user()
    first = service.create_organisation(anna, service.OrganisationCommand("Eins", "initiative"))
    second = service.create_organisation(anna, service.OrganisationCommand("Zwei", "association"))
    assert [m.organisation for m in service.my_organisations(anna)] == [first, second]


def test_only_admins_manage_members(client, new_client, db, make_user, make_organisation):
    organisation = make_organisation()
    admin = make_user(organisations=[organisation])
    admin.memberships[0].role = MemberRole.ADMIN
    member = make_user(organisations=[organisation])
    outsider = make_user()
    db.session.commit()

    with pytest.raises(NotPermitted):
        service.invite_member(member, organisation.id, outsider.email)
    with pytest.raises(NotPermitted):
        service.remove_member(member, organisation.id, admin.id)
    with pytest.raises(NotFound):
        service.invite_member(outsider, organisation.id, outsider.email)
    with pytest.raises(InvalidRequest) as exc:
        service.invite_member(admin, organisation.id, "no address")
    assert exc.value.field == "email"

    login(client, member)
    assert client.get(f"/organisations/{organisation.id}").status_code == 200
    response = client.post(
        f"/organisations/{organisation.id}/members", data={"email": outsider.email}
    )
    assert response.status_code == 403
    assert db.session.scalar(select(Membership).where(Membership.user_id == outsider.id)) is None

    other = new_client()
    login(other, outsider)
    assert other.get(f"/organisations/{organisation.id}").status_code == 404


def test_members_may_leave_but_the_last_admin_may_not(db, make_user, make_organisation):
    organisation = make_organisation()
    admin = make_user(organisations=[organisation])
    admin.memberships[0].role = MemberRole.ADMIN
    member = make_user(organisations=[organisation])
    service.remove_member(member, organisation.id, member.id)
    with pytest.raises(InvalidRequest):
        service.remove_member(admin, organisation.id, admin.id)
    with pytest.raises(InvalidRequest):
        service.set_role(admin, organisation.id, admin.id, MemberRole.MEMBER)


def test_pages_need_a_login(client):
    assert client.get("/organisations").status_code == 302
    assert client.get("/organisations/new").status_code == 302
