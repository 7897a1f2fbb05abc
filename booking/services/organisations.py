"""Organisations and their members. Only an organisation's admins manage its members."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import MemberRole, Membership, Organisation, OrganisationKind, User
from booking.services.accounts import normalise_email
from booking.services.errors import N_, InvalidRequest, NotFound, NotPermitted
from booking.services.permissions import authenticated, require_user

NAME_MAX = 200
DISTRICT_MAX = 100
DESCRIPTION_MAX = 5000
WEBSITE_MAX = 300


@dataclass(frozen=True)
class OrganisationCommand:
    name: str
    kind: str
    district: str = ""
    description: str = ""
    website: str = ""


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
    try:
        kind = OrganisationKind(cmd.kind)
    except ValueError:
        raise InvalidRequest(N_("Please choose a kind from the list."), "kind") from None
    district = (cmd.district or "").strip()
    if len(district) > DISTRICT_MAX:
        raise InvalidRequest(N_("The district is too long."), "district")
    description = (cmd.description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidRequest(N_("The description is too long."), "description")
    website = (cmd.website or "").strip()
    if website and not website.lower().startswith(("http://", "https://")):
        raise InvalidRequest(
            N_("Please enter a web address starting with https:// or http://."), "website"
        )
    if len(website) > WEBSITE_MAX:
        raise InvalidRequest(N_("The web address is too long."), "website")
    return OrganisationCommand(name, kind.value, district, description, website)


def create_organisation(user, cmd: OrganisationCommand) -> Organisation:
    """Create an organisation; its creator becomes its first admin."""
    user = require_user(user)
    cmd = _validate(cmd)
    taken = db.session.scalar(
        select(Organisation.id).where(func.lower(Organisation.name) == cmd.name.lower())
    )
    if taken is not None:
        raise InvalidRequest(N_("An organisation with this name exists already."), "name")
    organisation = Organisation(
        name=cmd.name,
        kind=OrganisationKind(cmd.kind),
        district=cmd.district,
        description=cmd.description,
        website=cmd.website,
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


def add_member(
    user, organisation_id: int, email: str, role: MemberRole = MemberRole.MEMBER
) -> Membership:
    organisation = get_organisation(user, organisation_id)
    if not can_manage_members(user, organisation):
        raise NotPermitted(N_("Only the admins of this organisation can add members."))
    try:
        address = normalise_email(email)
    except InvalidRequest:
        raise InvalidRequest(N_("Please enter a valid e-mail address."), "email") from None
    member = db.session.scalar(select(User).where(User.email == address))
    if member is None or not member.active:
        raise InvalidRequest(N_("No registered user with this address."), "email")
    existing = _membership(member, organisation)
    if existing is not None:
        raise InvalidRequest(N_("This person is already a member."), "email")
    membership = Membership(user=member, organisation=organisation, role=MemberRole(role))
    db.session.add(membership)
    db.session.flush()
    return membership


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
