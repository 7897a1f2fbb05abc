"""Joining an existing organisation (#12): find it, ask to join, the admins accept or decline,
the requester may withdraw; who asked is seen by the organisation's admins only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.models import (
    ApprovalPolicy,
    AuditEvent,
    JoinRequest,
    JoinStatus,
    MemberRole,
    Membership,
    OutboxMessage,
)
from booking.services import mail
from booking.services import organisations as service
from booking.services.errors import Conflict, NotFound, NotPermitted
from tests.conftest import PASSWORD


@pytest.fixture
def client(new_client):
    """Every request loads its user afresh, as in production."""
    return new_client()


def login(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def choir(db, make_organisation, make_user):
    """An organisation with an admin (Ada) and a plain member (Max)."""
    organisation = make_organisation(name="Chor Harmonie", district="Hennen")
    ada = make_user(name="Ada Admin", email="ada@example.org", language="en")
    ada.memberships.append(Membership(organisation=organisation, role=MemberRole.ADMIN))
    max_ = make_user(name="Max Member", email="max@example.org", language="en")
    max_.memberships.append(Membership(organisation=organisation, role=MemberRole.MEMBER))
    db.session.commit()
    return organisation, ada, max_


@pytest.fixture
def volunteer(make_user):
    return make_user(name="Vera Volunteer", email="vera@example.org", language="en")


def outbox(db, recipient: str) -> list[OutboxMessage]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id)
        )
    )


def actions(db) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def pending(db, organisation, user) -> list[JoinRequest]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(JoinRequest).where(
                JoinRequest.organisation_id == organisation.id,
                JoinRequest.user_id == user.id,
                JoinRequest.status == JoinStatus.PENDING,
            )
        )
    )


def test_search_lists_organisations_with_my_standing(
    client, db, choir, volunteer, make_organisation
):
    organisation, _ada, _max = choir
    other = make_organisation(name="Sportverein Letmathe", district="Letmathe")
    make_organisation(name="Theatergruppe")
    service.ask_to_join(volunteer, other.id)
    db.session.commit()
    login(client, volunteer)

    page = client.get("/organisations?q=chor").text
    assert "1 organisation found" in page
    assert "Chor Harmonie" in page and "Hennen" in page
    assert "Sportverein" not in page
    assert f'href="/organisations/{organisation.id}/join"' in page

    page = client.get("/organisations?q=sport").text
    assert "You have asked to join" in page
    assert f'action="/organisations/{other.id}/join/withdraw"' in page

    page = client.get("/organisations").text
    assert "3 organisations found" in page

    response = client.get("/organisations?q=" + "x" * 101)
    assert response.status_code == 422
    assert "aria-invalid" in response.text


def test_the_list_is_paged(client, db, volunteer, make_organisation):
    for n in range(service.PER_PAGE + 3):
        make_organisation(name=f"Verein {n:02d}")
    login(client, volunteer)
    first = client.get("/organisations").text
    assert "Verein 00" in first and f"Verein {service.PER_PAGE:02d}" not in first
    assert "Page 1 of 2" in first
    second = client.get("/organisations?page=2").text
    assert f"Verein {service.PER_PAGE:02d}" in second and "Verein 00" not in second


def test_ask_to_join_mails_the_admins(client, db, choir, volunteer):
    organisation, _ada, _max = choir
    login(client, volunteer)
    assert client.get(f"/organisations/{organisation.id}/join").status_code == 200
    response = client.post(
        f"/organisations/{organisation.id}/join", data={"message": "I sing tenor."}
    )
    assert response.status_code == 302
    [request] = pending(db, organisation, volunteer)
    assert request.message == "I sing tenor."

    [notice] = outbox(db, "ada@example.org")
    assert notice.subject == "Vera Volunteer asks to join Chor Harmonie"
    assert "I sing tenor." in notice.body_text
    assert f"http://raumboerse.test/organisations/{organisation.id}" in notice.body_text
    assert outbox(db, "max@example.org") == []  # plain members are not asked
    assert actions(db) == ["join_requested"]

    page = client.get(f"/organisations/{organisation.id}/join").text
    assert "You have asked to join" in page and "Withdraw the request" in page


def test_asking_twice_answers_already_asked(client, db, choir, volunteer):
    organisation, _ada, _max = choir
    login(client, volunteer)
    client.post(f"/organisations/{organisation.id}/join", data={"message": ""})
    response = client.post(
        f"/organisations/{organisation.id}/join", data={"message": ""}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "You have asked to join this organisation already" in response.text
    assert len(pending(db, organisation, volunteer)) == 1
    assert len(outbox(db, "ada@example.org")) == 1
    with pytest.raises(Conflict) as exc:
        service.ask_to_join(volunteer, organisation.id)
    assert exc.value.code == "already_asked"


def test_the_database_refuses_a_second_pending_request(db, monkeypatch, choir, volunteer):
    """Two asks that both passed the check: the partial unique index keeps one."""
    organisation, _ada, _max = choir
    db.session.add(JoinRequest(organisation_id=organisation.id, user_id=volunteer.id))
    db.session.commit()
    monkeypatch.setattr(service, "_pending_request", lambda user, organisation_id: None)
    with pytest.raises(Conflict) as exc:
        service.ask_to_join(volunteer, organisation.id)
    assert exc.value.code == "already_asked"
    db.session.commit()
    assert len(pending(db, organisation, volunteer)) == 1
    assert actions(db) == []


def test_a_too_long_message_is_an_error_next_to_the_field(client, db, choir, volunteer):
    organisation, _ada, _max = choir
    login(client, volunteer)
    response = client.post(
        f"/organisations/{organisation.id}/join",
        data={"message": "x" * (service.MESSAGE_MAX + 1)},
    )
    assert response.status_code == 422
    assert 'aria-describedby="message-hint message-error"' in response.text
    assert "Field cannot be longer than 1000 characters." in response.text
    assert pending(db, organisation, volunteer) == []
    assert outbox(db, "ada@example.org") == []


def test_members_cannot_ask_and_unknown_organisations_are_404(client, db, choir):
    organisation, _ada, max_ = choir
    login(client, max_)
    response = client.post(f"/organisations/{organisation.id}/join", data={}, follow_redirects=True)
    assert "You are a member of this organisation already." in response.text
    assert db.session.scalar(select(func.count(JoinRequest.id))) == 0
    assert client.get("/organisations/424242/join").status_code == 404
    assert client.post("/organisations/424242/join", data={}).status_code == 404


def test_withdraw(client, db, choir, volunteer):
    organisation, _ada, _max = choir
    login(client, volunteer)
    client.post(f"/organisations/{organisation.id}/join", data={"message": ""})
    response = client.post(f"/organisations/{organisation.id}/join/withdraw", follow_redirects=True)
    assert response.status_code == 200
    assert "Your request to join is withdrawn." in response.text
    assert pending(db, organisation, volunteer) == []
    [request] = db.session.scalars(select(JoinRequest)).all()
    assert request.status is JoinStatus.WITHDRAWN
    assert actions(db) == ["join_requested", "join_withdrawn"]
    # Nothing left to withdraw; asking again works.
    assert client.post(f"/organisations/{organisation.id}/join/withdraw").status_code == 404
    client.post(f"/organisations/{organisation.id}/join", data={"message": ""})
    assert len(pending(db, organisation, volunteer)) == 1


def test_accepted_member_sees_the_organisations_bookings(
    client, new_client, db, choir, volunteer, make_room, make_booking
):
    organisation, ada, max_ = choir
    room = make_room(approval_policy=ApprovalPolicy.MANUAL)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    make_booking(max_, room, soon, title="Chorprobe Harmonie", organisation_id=organisation.id)
    request = service.ask_to_join(volunteer, organisation.id, "Hello")
    db.session.commit()
    login(client, volunteer)
    assert "Chorprobe Harmonie" not in client.get("/my/bookings").text

    admin = new_client()
    login(admin, ada)
    page = admin.get(f"/organisations/{organisation.id}").text
    assert "Requests to join" in page and "Vera Volunteer" in page and "Hello" in page
    response = admin.post(
        f"/organisations/{organisation.id}/join-requests/{request.id}",
        data={"action": "accept"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Vera Volunteer is now a member." in response.text
    assert "Requests to join" not in response.text

    db.session.rollback()
    membership = db.session.get(Membership, (volunteer.id, organisation.id))
    assert membership is not None and membership.role is MemberRole.MEMBER
    assert "Chorprobe Harmonie" in client.get("/my/bookings").text
    assert client.get(f"/organisations/{organisation.id}").status_code == 200
    [notice] = outbox(db, "vera@example.org")
    assert notice.subject == "You are now a member of Chor Harmonie"
    assert actions(db)[-1] == "join_accepted"

    # Answering again is refused with a message, not a second membership or a 500.
    response = admin.post(
        f"/organisations/{organisation.id}/join-requests/{request.id}",
        data={"action": "decline"},
        follow_redirects=True,
    )
    assert "answered or withdrawn already" in response.text
    assert db.session.get(JoinRequest, request.id).status is JoinStatus.ACCEPTED


def test_decline_mails_the_reason(client, db, choir, volunteer):
    organisation, ada, _max = choir
    request = service.ask_to_join(volunteer, organisation.id)
    db.session.commit()
    login(client, ada)
    prefix = f"jr{request.id}-"
    response = client.post(
        f"/organisations/{organisation.id}/join-requests/{request.id}",
        data={"action": "decline", prefix + "reason": "We only take singers from Hennen."},
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(JoinRequest, request.id).status is JoinStatus.DECLINED
    assert db.session.get(Membership, (volunteer.id, organisation.id)) is None
    [notice] = outbox(db, "vera@example.org")
    assert notice.subject == "Your request to join Chor Harmonie was declined"
    assert "We only take singers from Hennen." in notice.body_text
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "join_declined")
    ).all()
    assert event.reason == "We only take singers from Hennen."
    assert (event.organisation_id, event.user_id, event.actor_id) == (
        organisation.id,
        volunteer.id,
        ada.id,
    )


def test_a_too_long_reason_is_an_error_next_to_the_field(client, db, choir, volunteer):
    organisation, ada, _max = choir
    request = service.ask_to_join(volunteer, organisation.id)
    db.session.commit()
    login(client, ada)
    response = client.post(
        f"/organisations/{organisation.id}/join-requests/{request.id}",
        data={"action": "decline", f"jr{request.id}-reason": "x" * (service.REASON_MAX + 1)},
    )
    assert response.status_code == 422
    assert f'aria-describedby="jr{request.id}-reason-hint jr{request.id}-reason-error"' in (
        response.text
    )
    assert len(pending(db, organisation, volunteer)) == 1
    assert outbox(db, "vera@example.org") == []


def test_a_plain_member_cannot_decide(client, db, choir, volunteer):
    organisation, _ada, max_ = choir
    request = service.ask_to_join(volunteer, organisation.id, "Secret note")
    db.session.commit()
    login(client, max_)
    response = client.post(
        f"/organisations/{organisation.id}/join-requests/{request.id}", data={"action": "accept"}
    )
    assert response.status_code == 403
    assert "Vera Volunteer" not in response.text
    response = client.post(f"/organisations/{organisation.id}/join-requests/{request.id}", data={})
    assert response.status_code == 403
    assert "Vera Volunteer" not in response.text
    assert len(pending(db, organisation, volunteer)) == 1
    with pytest.raises(NotPermitted):
        service.decide_join_request(max_, organisation.id, request.id, accept=True)


def test_platform_admins_decide_too(client, db, choir, volunteer, make_user):
    organisation, _ada, _max = choir
    root = make_user(is_admin=True, language="en")
    request = service.ask_to_join(volunteer, organisation.id)
    db.session.commit()
    login(client, root)
    assert "Vera Volunteer" in client.get(f"/organisations/{organisation.id}").text
    response = client.post(
        f"/organisations/{organisation.id}/join-requests/{request.id}", data={"action": "accept"}
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Membership, (volunteer.id, organisation.id)) is not None


def test_without_admins_the_platform_admins_are_asked(db, make_organisation, make_user, volunteer):
    lonely = make_organisation(name="Ohne Admin")
    make_user(is_admin=True, email="root@example.org", language="en")
    service.ask_to_join(volunteer, lonely.id)
    db.session.commit()
    assert len(outbox(db, "root@example.org")) == 1


def test_nobody_else_sees_who_asked(client, new_client, db, choir, volunteer, make_user):
    organisation, _ada, max_ = choir
    service.ask_to_join(volunteer, organisation.id, "Secret note")
    db.session.commit()
    stranger = make_user(language="en")
    manager = make_user(language="en")
    for user in (max_, stranger, manager):
        other = new_client()
        login(other, user)
        for path in (
            "/organisations",
            f"/organisations/{organisation.id}",
            f"/organisations/{organisation.id}/join",
        ):
            body = other.get(path).text
            assert "Vera Volunteer" not in body, (user.name, path)
            assert "Secret note" not in body, (user.name, path)
    # A stranger deciding learns nothing either: the organisation is "not found" for them.
    with pytest.raises(NotFound):
        service.decide_join_request(stranger, organisation.id, 1, accept=True)


def test_exists_already_links_to_ask_to_join(client, db, choir, volunteer):
    organisation, _ada, _max = choir
    login(client, volunteer)
    response = client.post(
        "/organisations/new", data={"name": "chor harmonie", "kind": "association"}
    )
    assert response.status_code == 422
    assert "An organisation with this name exists already." in response.text
    assert "Is it your organisation?" in response.text
    assert f'href="/organisations/{organisation.id}/join">Ask to join it</a>' in response.text


# Through a real SMTP server ------------------------------------------------------------------


def test_join_mails_arrive_over_smtp(app, db, smtp, client, choir, volunteer):
    organisation, ada, _max = choir
    login(client, volunteer)
    client.post(f"/organisations/{organisation.id}/join", data={"message": "Bass, 10 years"})
    with app.app_context():
        assert mail.send_pending(mail.MailSettings.from_config(app.config))["sent"] == 1
    [(recipients, message)] = smtp.messages
    assert recipients == ["ada@example.org"]
    assert message["Subject"] == "Vera Volunteer asks to join Chor Harmonie"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Hello Ada Admin,")
    assert "Bass, 10 years" in body
    assert f"http://raumboerse.test/organisations/{organisation.id}" in body

    request = pending(db, organisation, volunteer)[0]
    service.decide_join_request(ada, organisation.id, request.id, accept=False, reason="Full")
    db.session.commit()
    with app.app_context():
        mail.send_pending(mail.MailSettings.from_config(app.config))
    recipients, message = smtp.messages[-1]
    assert recipients == ["vera@example.org"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "declined" in body and "Reason: Full" in body
