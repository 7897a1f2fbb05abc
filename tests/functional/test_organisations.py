"""Organisations: creating one, adding and removing members, and who may do that."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from booking.models import MemberRole, Membership, Organisation
from booking.services import organisations as service
from booking.services.errors import InvalidRequest, NotFound, NotPermitted
from tests.conftest import PASSWORD


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


def test_admin_adds_and_removes_members(client, db, make_user):
    anna = make_user(email="anna@example.org")
    bert = make_user(email="bert@example.org", name="Bert")
    login(client, anna)
    create(client)
    organisation = db.session.scalar(select(Organisation))
    response = client.post(
        f"/organisations/{organisation.id}/members", data={"email": "BERT@example.org"}
    )
    assert response.status_code == 302
    assert {m.user_id for m in organisation.memberships} == {anna.id, bert.id}

    response = client.post(
        f"/organisations/{organisation.id}/members", data={"email": "nobody@example.org"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Mit dieser Adresse ist niemand registriert." in page
    assert 'value="nobody@example.org"' in page
    # The language switch does not lead back to a POST-only address.
    assert 'name="next" value="/"' in page

    response = client.post(f"/organisations/{organisation.id}/members/{bert.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert {m.user_id for m in organisation.memberships} == {anna.id}


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
        service.add_member(member, organisation.id, outsider.email)
    with pytest.raises(NotPermitted):
        service.remove_member(member, organisation.id, admin.id)
    with pytest.raises(NotFound):
        service.add_member(outsider, organisation.id, outsider.email)
    with pytest.raises(InvalidRequest) as exc:
        service.add_member(admin, organisation.id, member.email)
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
