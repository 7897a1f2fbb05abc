"""Organisations and their members. Only an organisation's admins manage its members and
answer the requests of people who ask to join."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from booking.database import begin_write
from booking.extensions import db
from booking.models import (
    JoinRequest,
    JoinStatus,
    MemberInvitation,
    MemberRole,
    Membership,
    Organisation,
    OrganisationKind,
    User,
)
from booking.models.types import utcnow
from booking.services import audit, notifications
from booking.services.accounts import normalise_email
from booking.services.errors import (
    N_,
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    NotPermitted,
)
from booking.services.paging import Paged
from booking.services.permissions import authenticated, require_user
from booking.services.text import check_clean_text, check_single_line

NAME_MAX = 200
DISTRICT_MAX = 100
DESCRIPTION_MAX = 5000
WEBSITE_MAX = 300


@dataclass(frozen=True)
class OrganisationCommand:
    """What an organisation says about itself; ``email`` is its public contact address and
    ``listed`` puts it in the public directory."""

    name: str
    kind: str
    district: str = ""
    description: str = ""
    website: str = ""
    email: str = ""
    listed: bool = False


def _membership(user: User, organisation: Organisation) -> Membership | None:
    return next((m for m in organisation.memberships if m.user_id == user.id), None)


def can_manage_members(user, organisation: Organisation) -> bool:
    if authenticated(user) is None:
        return False
    if user.is_admin:
        return True
    membership = _membership(user, organisation)
    return membership is not None and membership.role is MemberRole.ADMIN


def _validate(cmd: OrganisationCommand) -> OrganisationCommand:
    name = (cmd.name or "").strip()
    if not name:
        raise InvalidRequest(N_("Please enter the name of the organisation."), "name")
    if len(name) > NAME_MAX:
        raise InvalidRequest(N_("The name is too long."), "name")
    check_single_line(name, "name")
    try:
        kind = OrganisationKind(cmd.kind)
    except ValueError:
        raise InvalidRequest(N_("Please choose a kind from the list."), "kind") from None
    district = (cmd.district or "").strip()
    if len(district) > DISTRICT_MAX:
        raise InvalidRequest(N_("The district is too long."), "district")
    check_single_line(district, "district")
    description = (cmd.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidRequest(N_("The description is too long."), "description")
    check_clean_text(description, "description")
    website = (cmd.website or "").strip()
    if website and not website.lower().startswith(("http://", "https://")):
        raise InvalidRequest(
            N_("Please enter a web address starting with https:// or http://."), "website"
        )
    if len(website) > WEBSITE_MAX:
        raise InvalidRequest(N_("The web address is too long."), "website")
    check_single_line(website, "website")
    email = (cmd.email or "").strip()
    if email:
        try:
            email = normalise_email(email)
        except InvalidRequest as exc:
            raise InvalidRequest(exc.message, "email", code=exc.code) from None
    return OrganisationCommand(
        name, kind.value, district, description, website, email, bool(cmd.listed)
    )


def _name_free(name: str, organisation_id: int | None = None) -> None:
    """Refuse a name another organisation has (letter case aside)."""
    taken = db.session.scalar(
        select(Organisation.id).where(
            func.lower(Organisation.name) == name.lower(), Organisation.id != (organisation_id or 0)
        )
    )
    if taken is not None:
        # ``organisation_id`` lets a page offer to ask to join the organisation instead.
        raise InvalidRequest(
            N_("An organisation with this name exists already."),
            "name",
            code="name_taken",
            organisation_id=taken,
        )


def create_organisation(user, cmd: OrganisationCommand) -> Organisation:
    """Create an organisation; its creator becomes its first admin."""
    user = require_user(user)
    cmd = _validate(cmd)
    _name_free(cmd.name)
    organisation = Organisation(
        name=cmd.name,
        kind=OrganisationKind(cmd.kind),
        district=cmd.district,
        description=cmd.description,
        website=cmd.website,
        email=cmd.email,
        listed=cmd.listed,
    )
    organisation.memberships.append(Membership(user=user, role=MemberRole.ADMIN))
    db.session.add(organisation)
    db.session.flush()
    return organisation


def my_organisations(user) -> list[Membership]:
    user = require_user(user)
    return list(
        db.session.scalars(
            select(Membership)
            .join(Membership.organisation)
            .where(Membership.user_id == user.id)
            .options(selectinload(Membership.organisation))
            .order_by(Organisation.name)
        )
    )


def get_organisation(user, organisation_id: int) -> Organisation:
    """An organisation the user belongs to (administrators see all); others get NotFound."""
    user = require_user(user)
    organisation = db.session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation_id)
        .options(selectinload(Organisation.memberships).selectinload(Membership.user))
    )
    if organisation is None or not (user.is_admin or _membership(user, organisation)):
        raise NotFound(N_("There is no such organisation."))
    return organisation


def organisation_command(organisation: Organisation) -> OrganisationCommand:
    """What the organisation says about itself now, as its profile form shows it."""
    return OrganisationCommand(
        name=organisation.name,
        kind=organisation.kind.value,
        district=organisation.district,
        description=organisation.description,
        website=organisation.website,
        email=organisation.email,
        listed=organisation.listed,
    )


def organisation_for_editing(user, organisation_id: int) -> Organisation:
    """The organisation, if ``user`` is one of its admins or an administrator; its other
    members are refused, everyone else does not learn that it exists."""
    organisation = get_organisation(user, organisation_id)
    if not can_manage_members(user, organisation):
        raise NotPermitted(
            N_("Only the organisation's admins can change its profile."), code="not_an_admin"
        )
    return organisation


def update_organisation(user, organisation_id: int, cmd: OrganisationCommand) -> Organisation:
    """Change the profile of an organisation (its admins): name, kind, district, description,
    web and contact address, and whether the public directory lists it. Recorded in the audit
    trail with each changed field before and after."""
    begin_write()  # SQLite: the write lock before anything is read
    organisation = organisation_for_editing(user, organisation_id)
    cmd = _validate(cmd)
    _name_free(cmd.name, organisation.id)
    old = organisation_command(organisation)
    changes = {
        name: [getattr(old, name), value]
        for name, value in asdict(cmd).items()
        if getattr(old, name) != value
    }
    if not changes:
        return organisation
    for name, (_before, value) in changes.items():
        setattr(organisation, name, OrganisationKind(value) if name == "kind" else value)
    audit.record("organisation_updated", user, organisation_id=organisation.id, changes=changes)
    db.session.flush()
    return organisation


# Inviting -----------------------------------------------------------------------------------
#
# An organisation's admins (and platform administrators) invite people by e-mail address. The
# answer is the same for every address: nobody learns whether it has an account or whose it is,
# and nobody becomes a member without accepting. The person opens the mailed link, logs in (or
# registers) and accepts or declines; until then only the typed address is shown to the admins.

INVITATION_LIFETIME = timedelta(days=14)


def _invitation_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _pending_for_admin(
    user, organisation_id: int, model, item_id: int, *, refused, missing, answered
):
    """An open request to join or invitation of an organisation, for one of its admins to act
    on: the acting user, the organisation and the row, or the error that says why not."""
    user = require_user(user)
    begin_write()
    organisation = get_organisation(user, organisation_id)
    if not can_manage_members(user, organisation):
        raise NotPermitted(refused)
    item = db.session.get(model, item_id)
    if item is None or item.organisation_id != organisation.id:
        raise NotFound(missing)
    if item.status is not JoinStatus.PENDING:
        raise InvalidTransition(answered, code="already_decided")
    return user, organisation, item


def invite_member(
    user,
    organisation_id: int,
    email: str,
    role: MemberRole = MemberRole.MEMBER,
    *,
    now: datetime | None = None,
) -> MemberInvitation:
    """Invite an address to join; a pending invitation to the same address is sent anew."""
    user = require_user(user)
    begin_write()
    organisation = get_organisation(user, organisation_id)
    if not can_manage_members(user, organisation):
        raise NotPermitted(N_("Only the admins of this organisation can invite members."))
    try:
        address = normalise_email(email)
    except InvalidRequest:
        raise InvalidRequest(N_("Please enter a valid e-mail address."), "email") from None
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    invitation = db.session.scalar(
        select(MemberInvitation).where(
            MemberInvitation.organisation_id == organisation.id,
            MemberInvitation.email == address,
            MemberInvitation.status == JoinStatus.PENDING,
        )
    )
    if invitation is None:
        invitation = MemberInvitation(organisation=organisation, email=address)
        db.session.add(invitation)
    invitation.role = MemberRole(role)
    invitation.token_hash = _invitation_hash(token)  # a link mailed before stops working
    invitation.invited_by = user
    invitation.created_at = now
    invitation.expires_at = now + INVITATION_LIFETIME
    try:
        with db.session.begin_nested():  # two admins inviting the same address at once
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            N_("This address was invited a moment ago. Reload the page."), code="already_invited"
        ) from None
    audit.record(
        "member_invited",
        user,
        organisation_id=organisation.id,
        invitation_id=invitation.id,
        role=invitation.role.value,
    )
    notifications.send_member_invitation(
        invitation, find_user_quietly(address), token, INVITATION_LIFETIME.days
    )
    return invitation


def find_user_quietly(address: str) -> User | None:
    """The account of an address, for the mail's language and greeting only: what is found
    never reaches the inviter."""
    return db.session.scalar(select(User).where(User.email == address, User.active.is_(True)))


def pending_invitations(user, organisation: Organisation) -> list[MemberInvitation]:
    """The organisation's open invitations, newest first: for its admins only."""
    if not can_manage_members(user, organisation):
        return []
    return list(
        db.session.scalars(
            select(MemberInvitation)
            .where(
                MemberInvitation.organisation_id == organisation.id,
                MemberInvitation.status == JoinStatus.PENDING,
            )
            .order_by(MemberInvitation.created_at.desc(), MemberInvitation.id.desc())
        )
    )


def withdraw_invitation(user, organisation_id: int, invitation_id: int) -> MemberInvitation:
    user, organisation, invitation = _pending_for_admin(
        user,
        organisation_id,
        MemberInvitation,
        invitation_id,
        refused=N_("Only the admins of this organisation can withdraw invitations."),
        missing=N_("There is no such invitation."),
        answered=N_("This invitation has been answered or withdrawn already."),
    )
    invitation.status = JoinStatus.WITHDRAWN
    invitation.answered_at = utcnow()
    audit.record(
        "invitation_withdrawn", user, organisation_id=organisation.id, invitation_id=invitation.id
    )
    db.session.flush()
    return invitation


def invitation_by_token(token: str, *, now: datetime | None = None) -> MemberInvitation:
    """The pending invitation a mailed link names; NotFound if it was never sent, was answered,
    withdrawn or replaced, or has expired (one message: the link does not work any more)."""
    now = now or utcnow()
    invitation = db.session.scalar(
        select(MemberInvitation).where(MemberInvitation.token_hash == _invitation_hash(token))
    )
    if (
        invitation is None
        or invitation.status is not JoinStatus.PENDING
        or invitation.expires_at <= now
    ):
        raise NotFound(
            N_(
                "This invitation link does not work any more: it was answered, withdrawn or "
                "replaced by a newer one, or it is older than two weeks. Ask the organisation "
                "to invite you again."
            ),
            code="invitation_invalid",
        )
    return invitation


def accept_invitation(user, token: str, *, now: datetime | None = None) -> MemberInvitation:
    """The person who holds the link joins with the account they are logged in with (the
    link came to their mailbox; they may use another address for their account)."""
    user = require_user(user)
    begin_write()
    now = now or utcnow()
    invitation = invitation_by_token(token, now=now)
    organisation = invitation.organisation
    membership = _membership(user, organisation)
    if membership is None:
        organisation.memberships.append(Membership(user=user, role=invitation.role))
    elif invitation.role is MemberRole.ADMIN:
        membership.role = MemberRole.ADMIN
    invitation.status = JoinStatus.ACCEPTED
    invitation.answered_by = user
    invitation.answered_at = now
    audit.record(
        "invitation_accepted",
        user,
        organisation_id=organisation.id,
        user_id=user.id,
        invitation_id=invitation.id,
    )
    db.session.flush()
    notifications.notify_invitation_answered(invitation)
    return invitation


def decline_invitation(user, token: str, *, now: datetime | None = None) -> MemberInvitation:
    """Say no from the mailed link; no login needed (the link proves the mailbox)."""
    begin_write()
    now = now or utcnow()
    invitation = invitation_by_token(token, now=now)
    invitation.status = JoinStatus.DECLINED
    invitation.answered_by = user if getattr(user, "is_authenticated", False) else None
    invitation.answered_at = now
    audit.record(
        "invitation_declined",
        invitation.answered_by,
        organisation_id=invitation.organisation_id,
        invitation_id=invitation.id,
    )
    db.session.flush()
    notifications.notify_invitation_answered(invitation)
    return invitation


def remove_member(user, organisation_id: int, member_id: int) -> None:
    """Admins remove anyone; every member may leave. The last admin cannot go."""
    organisation = get_organisation(user, organisation_id)
    membership = next((m for m in organisation.memberships if m.user_id == member_id), None)
    if membership is None:
        raise NotFound(N_("This person is not a member."))
    if member_id != user.id and not can_manage_members(user, organisation):
        raise NotPermitted(N_("Only the admins of this organisation can remove members."))
    admins = [m for m in organisation.memberships if m.role is MemberRole.ADMIN]
    if membership.role is MemberRole.ADMIN and len(admins) == 1:
        raise InvalidRequest(
            N_("The organisation needs at least one admin. Make someone else admin first."),
            "member",
        )
    organisation.memberships.remove(membership)
    db.session.flush()


def set_role(user, organisation_id: int, member_id: int, role: MemberRole) -> None:
    organisation = get_organisation(user, organisation_id)
    if not can_manage_members(user, organisation):
        raise NotPermitted(N_("Only the admins of this organisation can change roles."))
    membership = next((m for m in organisation.memberships if m.user_id == member_id), None)
    if membership is None:
        raise NotFound(N_("This person is not a member."))
    role = MemberRole(role)
    admins = [m for m in organisation.memberships if m.role is MemberRole.ADMIN]
    if membership.role is MemberRole.ADMIN and role is not MemberRole.ADMIN and len(admins) == 1:
        raise InvalidRequest(
            N_("The organisation needs at least one admin. Make someone else admin first."),
            "member",
        )
    membership.role = role
    db.session.flush()


# Joining ------------------------------------------------------------------------------------
#
# Anyone logged in may find an organisation and ask to join it; its admins (and platform
# administrators) accept or decline. Who asked is shown to nobody else: the requests are read
# only through ``pending_requests``, which answers admins only.

QUERY_MAX = 100
MESSAGE_MAX = 1000
REASON_MAX = 1000
PER_PAGE = 20


@dataclass(frozen=True)
class DirectoryRow:
    """One organisation as the viewer sees it in the list: their role in it (None for no
    member) and whether their own request to join waits for an answer."""

    organisation: Organisation
    role: MemberRole | None
    pending: bool


@dataclass(frozen=True)
class DirectoryPage(Paged):
    items: list[DirectoryRow]
    page: int
    per_page: int
    total: int


def list_organisations(
    user, *, q: str = "", page: int = 1, per_page: int = PER_PAGE
) -> DirectoryPage:
    """Every organisation whose name contains ``q``, by name, with the viewer's standing."""
    user = require_user(user)
    text = (q or "").strip()
    if len(text) > QUERY_MAX:
        raise InvalidRequest(N_("The search text is too long."), "q", code="query_too_long")
    where = []
    if text:
        where.append(func.lower(Organisation.name).contains(text.lower(), autoescape=True))
    total = db.session.scalar(select(func.count(Organisation.id)).where(*where)) or 0
    pending = (
        select(JoinRequest.id)
        .where(
            JoinRequest.organisation_id == Organisation.id,
            JoinRequest.user_id == user.id,
            JoinRequest.status == JoinStatus.PENDING,
        )
        .correlate(Organisation)
        .exists()
    )
    page = max(1, page)
    rows = db.session.execute(
        select(Organisation, Membership.role, pending)
        .outerjoin(
            Membership,
            (Membership.organisation_id == Organisation.id) & (Membership.user_id == user.id),
        )
        .where(*where)
        .order_by(func.lower(Organisation.name), Organisation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [DirectoryRow(o, role, bool(p)) for o, role, p in rows]
    return DirectoryPage(items, page, per_page, total)


def _any_organisation(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(N_("There is no such organisation."))
    return organisation


def _pending_request(user: User, organisation_id: int) -> JoinRequest | None:
    return db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.organisation_id == organisation_id,
            JoinRequest.user_id == user.id,
            JoinRequest.status == JoinStatus.PENDING,
        )
    )


@dataclass(frozen=True)
class JoinStanding:
    """What the join page needs: the organisation, the viewer's role in it, their open request."""

    organisation: Organisation
    role: MemberRole | None
    pending: JoinRequest | None


def join_standing(user, organisation_id: int) -> JoinStanding:
    user = require_user(user)
    organisation = _any_organisation(organisation_id)
    membership = _membership(user, organisation)
    return JoinStanding(
        organisation,
        membership.role if membership else None,
        _pending_request(user, organisation.id),
    )


def _join_mail_recipients(organisation: Organisation) -> list[User]:
    """The organisation's active admins; where it has none, the platform administrators, so
    that a request never goes unheard."""
    admins = [
        m.user for m in organisation.memberships if m.role is MemberRole.ADMIN and m.user.active
    ]
    if admins:
        return admins
    return list(
        db.session.scalars(
            select(User).where(User.is_admin.is_(True), User.active.is_(True)).order_by(User.id)
        )
    )


def ask_to_join(user, organisation_id: int, message: str = "") -> JoinRequest:
    """Ask to join an organisation: one open request per person and organisation."""
    user = require_user(user)
    begin_write()
    organisation = _any_organisation(organisation_id)
    if _membership(user, organisation) is not None:
        raise Conflict(N_("You are a member of this organisation already."), code="already_member")
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise InvalidRequest(
            N_("The message is too long (at most %(max)d characters)."),
            "message",
            code="message_too_long",
            max=MESSAGE_MAX,
        )
    already = Conflict(
        N_("You have asked to join this organisation already. Its admins will answer."),
        code="already_asked",
    )
    if _pending_request(user, organisation.id) is not None:
        raise already
    request = JoinRequest(organisation=organisation, user=user, message=message)
    try:
        # The partial unique index is the last word when two asks race.
        with db.session.begin_nested():
            db.session.add(request)
            db.session.flush()
    except IntegrityError:
        raise already from None
    audit.record("join_requested", user, organisation_id=organisation.id, user_id=user.id)
    notifications.notify_join_request(request, _join_mail_recipients(organisation))
    return request


def withdraw_join_request(
    user, organisation_id: int, *, now: datetime | None = None
) -> JoinRequest:
    """The requester takes back their open request."""
    user = require_user(user)
    begin_write()
    organisation = _any_organisation(organisation_id)
    request = _pending_request(user, organisation.id)
    if request is None:
        raise NotFound(N_("You have no open request to join this organisation."))
    request.status = JoinStatus.WITHDRAWN
    request.decided_by = user
    request.decided_at = now or utcnow()
    audit.record("join_withdrawn", user, organisation_id=organisation.id, user_id=user.id)
    db.session.flush()
    return request


def pending_requests(user, organisation: Organisation) -> list[JoinRequest]:
    """The organisation's open requests, oldest first: for its admins only, empty for others."""
    if not can_manage_members(user, organisation):
        return []
    return list(
        db.session.scalars(
            select(JoinRequest)
            .where(
                JoinRequest.organisation_id == organisation.id,
                JoinRequest.status == JoinStatus.PENDING,
            )
            .options(selectinload(JoinRequest.user))
            .order_by(JoinRequest.created_at, JoinRequest.id)
        )
    )


def decide_join_request(
    user,
    organisation_id: int,
    request_id: int,
    *,
    accept: bool,
    reason: str = "",
    now: datetime | None = None,
) -> JoinRequest:
    """An admin of the organisation (or a platform administrator) accepts a request, which
    makes the person a member, or declines it, optionally saying why; the person is told."""
    user, organisation, request = _pending_for_admin(
        user,
        organisation_id,
        JoinRequest,
        request_id,
        refused=N_("Only the admins of this organisation can answer requests to join."),
        missing=N_("There is no such request to join."),
        answered=N_("This request has been answered or withdrawn already."),
    )
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise InvalidRequest(
            N_("The reason is too long (at most %(max)d characters)."),
            "reason",
            code="reason_too_long",
            max=REASON_MAX,
        )
    if accept and _membership(request.user, organisation) is None:
        organisation.memberships.append(Membership(user=request.user, role=MemberRole.MEMBER))
    request.status = JoinStatus.ACCEPTED if accept else JoinStatus.DECLINED
    request.decided_by = user
    request.decided_at = now or utcnow()
    audit.record(
        "join_accepted" if accept else "join_declined",
        user,
        organisation_id=organisation.id,
        user_id=request.user_id,
        reason="" if accept else reason,
    )
    db.session.flush()
    if request.user.active:
        notifications.notify_join_decided(request, reason="" if accept else reason)
    return request
