"""Accounts: creating and updating users and their roles."""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from booking.extensions import db
from booking.models import MemberRole, Membership, Organisation, Site, User
from booking.services.errors import InvalidRequest
from booking.services.passwords import MIN_PASSWORD_LENGTH, hash_password


def normalise_email(email: str) -> str:
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidRequest(f"This e-mail address is not valid: {exc}", "email") from None
    return result.normalized.lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", "password"
        )
    if len(password) > 1024:
        raise InvalidRequest("The password is too long.", "password")


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def upsert_user(
    *,
    email: str,
    name: str | None,
    password: str | None,
    admin: bool | None = None,
    manages: Iterable[int] = (),
    member_of: Iterable[int] = (),
) -> User:
    """Create the user, or update an existing one's name, password and roles (idempotent)."""
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        if not name or not name.strip():
            raise InvalidRequest("A new user needs a name.", "name")
        if password is None:
            raise InvalidRequest("A new user needs a password.", "password")
        user = User(email=email, name=name.strip(), password_hash="", is_admin=bool(admin))
        db.session.add(user)
    elif name:
        user.name = name.strip()
    if password is not None:
        check_password_strength(password)
        user.password_hash = hash_password(password)
    if admin is not None:
        user.is_admin = admin
    for site_id in manages:
        site = db.session.get(Site, site_id)
        if site is None:
            raise InvalidRequest(f"There is no site {site_id}.", "manages")
        if site not in user.managed_sites:
            user.managed_sites.append(site)
    for organisation_id in member_of:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise InvalidRequest(f"There is no organisation {organisation_id}.", "member_of")
        if not any(m.organisation_id == organisation_id for m in user.memberships):
            user.memberships.append(Membership(organisation=organisation, role=MemberRole.MEMBER))
    db.session.flush()
    return user


class _SystemUser:
    """The actor for command-line administration: allowed everything, owns nothing."""

    is_authenticated = True
    is_admin = True
    active = True
    id = None


def system_user() -> _SystemUser:
    return _SystemUser()
