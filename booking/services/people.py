"""People and organisations for administrators: find and deactivate accounts, grant and take
administrator rights, send a password-reset link, assign and remove site managers, and the
directory of organisations with their trusted flag.

Everything here is for administrators only (``NotPermitted`` for everyone else), with one
read-only exception: the managers of a site may see who else manages it (``site_managers``), so
a caretaker knows whom to call. Each change writes one audit event.

A deactivated account cannot log in, its sessions and remember-me cookies stop working on the
next request (the session generation is bumped and the user loader answers None), its API
tokens answer 401 and its personal calendar feed 404. Reactivating the account brings the
tokens and the feed back (nothing is deleted); the old sessions stay ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from booking.database import begin_write
from booking.extensions import db
from booking.models import (
    AuditEvent,
    Booking,
    Membership,
    Occurrence,
    OccurrenceStatus,
    Organisation,
    Room,
    Site,
    User,
    site_manager,
    utcnow,
)
from booking.services import accounts, audit
from booking.services.errors import N_, InvalidRequest, NotFound, NotPermitted
from booking.services.paging import Paged
from booking.services.permissions import can_manage_site, require_user

PER_PAGE = 25
QUERY_MAX = 200
USER_FILTERS = ("", "admins", "managers", "inactive")
TRUSTED_FILTERS = ("", "trusted", "untrusted")
RECENT_DAYS = 30
DETAIL_DATES = 50
HISTORY = 10
_LIVE = (OccurrenceStatus.PENDING, OccurrenceStatus.APPROVED)


def require_admin(user) -> User:
    """The acting administrator; ``NotPermitted`` for everyone else."""
    u = require_user(user)
    if not u.is_admin:
        raise NotPermitted(
            N_("Only administrators may manage people and organisations."), code="admin_only"
        )
    return u


def _search_text(q: str | None) -> str:
    q = (q or "").strip()
    if len(q) > QUERY_MAX:
        raise InvalidRequest(N_("The search text is too long."), "q", code="query_too_long")
    return q.lower()


# People ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserPage(Paged):
    items: list[User]
    page: int
    per_page: int
    total: int


def list_users(
    actor, *, q: str = "", show: str = "", page: int = 1, per_page: int = PER_PAGE
) -> UserPage:
    """Accounts whose name or e-mail address contains ``q``, by name; ``show`` narrows them to
    ``admins``, ``managers`` (of at least one site) or ``inactive`` accounts."""
    require_admin(actor)
    text = _search_text(q)
    if show not in USER_FILTERS:
        raise InvalidRequest(N_("Please choose a filter from the list."), "show", code="filter")
    stmt = select(User)
    if text:
        stmt = stmt.where(
            or_(
                func.lower(User.name).contains(text, autoescape=True),
                func.lower(User.email).contains(text, autoescape=True),
            )
        )
    if show == "admins":
        stmt = stmt.where(User.is_admin.is_(True))
    elif show == "managers":
        stmt = stmt.where(exists().where(site_manager.c.user_id == User.id))
    elif show == "inactive":
        stmt = stmt.where(User.active.is_(False))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    items = db.session.scalars(
        stmt.options(selectinload(User.managed_sites))
        .order_by(func.lower(User.name), User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return UserPage(list(items), page, per_page, total)


@dataclass(frozen=True)
class UserDetail:
    user: User
    memberships: list[Membership]
    managed_sites: list[Site]
    history: list[AuditEvent]  # the latest events about this person
    site_names: dict[int, str]  # of the sites the history names


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("There is no such user."))
    return user


def user_detail(actor, user_id: int) -> UserDetail:
    require_admin(actor)
    user = _user(user_id)
    memberships = list(
        db.session.scalars(
            select(Membership)
            .join(Membership.organisation)
            .where(Membership.user_id == user.id)
            .options(selectinload(Membership.organisation))
            .order_by(Organisation.name)
        )
    )
    history = list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.user_id == user.id)
            .options(selectinload(AuditEvent.actor))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(HISTORY)
        )
    )
    site_ids = {e.site_id for e in history if e.site_id is not None}
    site_names = (
        dict(db.session.execute(select(Site.id, Site.name).where(Site.id.in_(site_ids))).all())
        if site_ids
        else {}
    )
    return UserDetail(user, memberships, list(user.managed_sites), history, site_names)


def _other_active_admins(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(User.id)).where(
                User.is_admin.is_(True), User.active.is_(True), User.id != user.id
            )
        )
        or 0
    )


def _guard_last_admin(user: User) -> None:
    if user.is_admin and user.active and _other_active_admins(user) == 0:
        raise InvalidRequest(
            N_("%(name)s is the last active administrator. Please appoint another one first."),
            "user",
            code="last_admin",
            name=user.name,
        )


def deactivate_user(actor, user_id: int, *, reason: str = "") -> tuple[User, bool]:
    """Lock an account out; the flag is False if it already was. Nobody deactivates their own
    account, and the last active administrator stays."""
    actor = require_admin(actor)
    begin_write()
    user = _user(user_id)
    if user.id == actor.id:
        raise InvalidRequest(
            N_("You cannot deactivate your own account."), "user", code="self_deactivation"
        )
    if not user.active:
        return user, False
    _guard_last_admin(user)
    accounts.end_all_sessions(user)  # reactivating does not bring the old sessions back
    user.active = False
    audit.record("user_deactivated", actor, user_id=user.id, reason=reason)
    db.session.flush()
    return user, True


def reactivate_user(actor, user_id: int) -> tuple[User, bool]:
    """Let an account log in again (its tokens and feed work again too); False if it could."""
    actor = require_admin(actor)
    begin_write()
    user = _user(user_id)
    if user.active:
        return user, False
    user.active = True
    audit.record("user_reactivated", actor, user_id=user.id)
    db.session.flush()
    return user, True


def set_admin(actor, user_id: int, admin: bool) -> tuple[User, bool]:
    """Grant or take administrator rights; False if nothing changed. The last active
    administrator keeps them."""
    actor = require_admin(actor)
    begin_write()
    user = _user(user_id)
    if user.is_admin == admin:
        return user, False
    if not admin:
        _guard_last_admin(user)
    user.is_admin = admin
    audit.record("admin_granted" if admin else "admin_revoked", actor, user_id=user.id)
    db.session.flush()
    return user, True


def send_password_reset(actor, user_id: int, *, now: datetime | None = None) -> User:
    """Mail the person the same single-use reset link the "forgot password" page sends."""
    actor = require_admin(actor)
    begin_write()
    user = _user(user_id)
    if not user.active:
        raise InvalidRequest(
            N_("This account is deactivated. Reactivate it before sending a reset link."),
            "user",
            code="account_inactive",
        )
    accounts.request_password_reset(user.email, now=now)
    audit.record("password_reset_sent", actor, user_id=user.id)
    db.session.flush()
    return user


# Site managers -----------------------------------------------------------------------------


def _site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound(N_("There is no such site."))
    return site


def site_managers(actor, site_id: int) -> tuple[Site, list[User]]:
    """Who manages a site: for administrators and, read-only, for the site's own managers."""
    u = require_user(actor)
    site = _site(site_id)
    if not (u.is_admin or can_manage_site(u, site.id)):
        raise NotPermitted(
            N_("Only administrators and this site's managers may see its managers."),
            code="not_site_manager",
        )
    managers = db.session.scalars(
        select(User)
        .join(site_manager, site_manager.c.user_id == User.id)
        .where(site_manager.c.site_id == site.id)
        .order_by(func.lower(User.name), User.id)
    ).all()
    return site, list(managers)


def assign_manager(
    actor, site_id: int, email: str, *, name: str = "", now: datetime | None = None
) -> tuple[User, bool]:
    """Make the account with this e-mail address a manager of the site. Someone without an
    account is invited when ``name`` is given: an account is created for them and they are
    mailed a link to choose their password. Returns the manager and whether they were invited.
    """
    actor = require_admin(actor)
    begin_write()
    site = _site(site_id)
    if not (email or "").strip():
        raise InvalidRequest(
            N_("Please enter the e-mail address of the new manager."), "email", code="email_missing"
        )
    address = accounts.normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None and not (name or "").strip():
        raise InvalidRequest(
            N_(
                "Nobody has an account with this e-mail address yet. Enter the person's name "
                "as well to invite them."
            ),
            "name",
            code="name_needed_for_invitation",
        )
    invited = user is None
    if user is None:
        user = accounts.invite_user(
            email=address,
            name=name,
            invited_for=site.name,
            now=now,
        )
        audit.record("user_invited", actor, site_id=site.id, user_id=user.id)
    if not user.active:
        raise InvalidRequest(
            N_("The account of %(name)s is deactivated. Reactivate it first."),
            "email",
            code="account_inactive",
            name=user.name,
        )
    if site in user.managed_sites:
        raise InvalidRequest(
            N_("%(name)s already manages this site."),
            "email",
            code="already_manager",
            name=user.name,
        )
    user.managed_sites.append(site)
    audit.record("manager_assigned", actor, site_id=site.id, user_id=user.id)
    db.session.flush()
    return user, invited


def remove_manager(actor, site_id: int, user_id: int) -> User:
    """Take a site away from one of its managers (their account stays)."""
    actor = require_admin(actor)
    begin_write()
    site = _site(site_id)
    user = _user(user_id)
    if site not in user.managed_sites:
        raise NotFound(N_("This person does not manage this site."), code="not_a_manager")
    user.managed_sites.remove(site)
    audit.record("manager_removed", actor, site_id=site.id, user_id=user.id)
    db.session.flush()
    return user


# Organisations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRow:
    organisation: Organisation
    members: int
    upcoming: int  # bookings with a pending or approved date still to come


@dataclass(frozen=True)
class OrganisationPage(Paged):
    items: list[OrganisationRow]
    page: int
    per_page: int
    total: int


def _upcoming_bookings(now: datetime):
    return (
        select(func.count(func.distinct(Booking.id)))
        .join(Occurrence, Occurrence.booking_id == Booking.id)
        .where(
            Booking.organisation_id == Organisation.id,
            Occurrence.ends_at > now,
            Occurrence.status.in_(_LIVE),
        )
        .correlate(Organisation)
        .scalar_subquery()
    )


def list_organisations(
    actor,
    *,
    q: str = "",
    trusted: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
) -> OrganisationPage:
    """Every organisation whose name contains ``q`` (``trusted``: "trusted"/"untrusted"), by
    name, with its number of members and of bookings still to come."""
    require_admin(actor)
    text = _search_text(q)
    if trusted not in TRUSTED_FILTERS:
        raise InvalidRequest(N_("Please choose a filter from the list."), "trusted", code="filter")
    now = now or utcnow()
    where = []
    if text:
        where.append(func.lower(Organisation.name).contains(text, autoescape=True))
    if trusted:
        where.append(Organisation.trusted.is_(trusted == "trusted"))
    total = db.session.scalar(select(func.count(Organisation.id)).where(*where)) or 0
    members = (
        select(func.count(Membership.user_id))
        .where(Membership.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )
    page = max(1, page)
    rows = db.session.execute(
        select(Organisation, members, _upcoming_bookings(now))
        .where(*where)
        .order_by(func.lower(Organisation.name), Organisation.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [OrganisationRow(o, m or 0, u or 0) for o, m, u in rows]
    return OrganisationPage(items, page, per_page, total)


@dataclass(frozen=True)
class OrganisationDetail:
    organisation: Organisation
    memberships: list[Membership]
    upcoming: list[Occurrence]  # dates still to come, soonest first
    recent: list[Occurrence]  # dates of the last RECENT_DAYS days, latest first


def _organisation(organisation_id: int) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(N_("There is no such organisation."))
    return organisation


def organisation_detail(
    actor, organisation_id: int, *, now: datetime | None = None
) -> OrganisationDetail:
    require_admin(actor)
    organisation = _organisation(organisation_id)
    now = now or utcnow()
    memberships = list(
        db.session.scalars(
            select(Membership)
            .join(Membership.user)
            .where(Membership.organisation_id == organisation.id)
            .options(selectinload(Membership.user))
            .order_by(Membership.role, func.lower(User.name))  # "admin" before "member"
        )
    )
    dates = (
        select(Occurrence)
        .join(Occurrence.booking)
        .where(Booking.organisation_id == organisation.id)
        .options(
            selectinload(Occurrence.booking).selectinload(Booking.requested_by),
            selectinload(Occurrence.room).selectinload(Room.site),
        )
    )
    upcoming = db.session.scalars(
        dates.where(Occurrence.ends_at > now)
        .order_by(Occurrence.starts_at, Occurrence.id)
        .limit(DETAIL_DATES)
    ).all()
    recent = db.session.scalars(
        dates.where(
            and_(
                Occurrence.ends_at <= now, Occurrence.starts_at >= now - timedelta(days=RECENT_DAYS)
            )
        )
        .order_by(Occurrence.starts_at.desc(), Occurrence.id.desc())
        .limit(DETAIL_DATES)
    ).all()
    return OrganisationDetail(organisation, memberships, list(upcoming), list(recent))


def set_trusted(actor, organisation_id: int, trusted: bool) -> tuple[Organisation, bool]:
    """Trust an organisation (rooms with the "trusted" policy then approve its requests at
    once) or stop trusting it; False if nothing changed. Requests already made keep their
    status."""
    actor = require_admin(actor)
    begin_write()
    organisation = _organisation(organisation_id)
    if organisation.trusted == trusted:
        return organisation, False
    organisation.trusted = trusted
    audit.record(
        "organisation_trusted" if trusted else "organisation_untrusted",
        actor,
        organisation_id=organisation.id,
    )
    db.session.flush()
    return organisation, True
