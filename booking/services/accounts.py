"""Accounts: registering, logging in, password resets, profiles, and roles for the CLI.

Messages of ``InvalidRequest`` are plain English; the ones a web form can show are marked with
``N_`` so the views can translate them with ``gettext(exc.message)``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update

from booking.extensions import db
from booking.languages import LANGUAGES
from booking.models import (
    MemberRole,
    Membership,
    Organisation,
    PasswordResetToken,
    Site,
    User,
    utcnow,
)
from booking.services import login_sessions
from booking.services.errors import N_, InvalidRequest, NotPermitted
from booking.services.passwords import (
    DUMMY_HASH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    is_common_password,
    needs_rehash,
    verify_password,
)
from booking.services.permissions import require_user
from booking.services.text import check_single_line

RESET_TOKEN_LIFETIME = timedelta(hours=1)
# An invited person (a new site manager) chooses a password within a week.
INVITATION_LIFETIME = timedelta(days=7)
# A new registration is confirmed within two days (mail can be slow; a spam folder is checked late).
CONFIRMATION_LIFETIME = timedelta(hours=48)
NAME_MAX = 200


def normalise_email(email: str) -> str:
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidRequest(
            N_("This e-mail address is not valid."),
            "email",
            code="email_invalid",
            detail=f"This e-mail address is not valid: {exc}",
        ) from None
    return result.normalized.lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            N_("The password must have at least %(n)d characters."),
            "password",
            code="password_too_short",
            n=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            N_("The password may have at most %(max)d characters."),
            "password",
            code="password_too_long",
            max=MAX_PASSWORD_LENGTH,
        )
    if is_common_password(password):
        raise InvalidRequest(
            N_(
                "This password is among the most used ones and easy to guess."
                " Please choose another."
            ),
            "password",
            code="password_common",
        )


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidRequest(N_("Please enter your name."), "name")
    if len(name) > NAME_MAX:
        raise InvalidRequest(N_("The name is too long."), "name")
    return check_single_line(name, "name")  # it stands in mail headers


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise InvalidRequest(N_("Please choose a language from the list."), "language")
    return language


def register_user(
    *,
    email: str,
    name: str,
    password: str,
    language: str,
    next_path: str = "",
    now: datetime | None = None,
) -> None:
    """Start an ordinary account; the answer is the same whether the address is known or not.

    A new address gets an account that waits for its confirmation and a mail with a link that
    confirms it (``confirm_address``). A registered address gets a mail saying so, with the
    ways in (log in, reset the password); its account is not touched. Nobody learns from the
    page which addresses have accounts, and nobody can open an account for someone else's
    address. Registering again before confirming replaces the waiting account's name and
    password and mails a new link. ``next_path`` is where the confirmed person goes on to.
    """
    from booking.services.notifications import send_address_confirmation, send_already_registered

    email = normalise_email(email)
    name = _clean_name(name)
    language = _check_language(language)
    check_password_strength(password)
    password_hash = hash_password(password)  # on both paths: the time taken tells nothing
    user = find_user(email)
    if user is not None and user.email_confirmed_at is not None:
        send_already_registered(user)
        db.session.flush()
        return
    if user is None:
        user = User(email=email)
        db.session.add(user)
    user.name, user.language, user.password_hash = name, language, password_hash
    db.session.flush()
    user.email_confirmed_at = None  # after the insert: the column's default confirms
    db.session.flush()
    now = now or utcnow()
    _retire_reset_links(user, now)  # only the newest confirmation link works
    token = _issue_link(user, now, CONFIRMATION_LIFETIME)
    send_address_confirmation(
        user, token, int(CONFIRMATION_LIFETIME.total_seconds() // 3600), next_path
    )
    db.session.flush()


def confirm_address(token: str, *, now: datetime | None = None) -> User:
    """Open a registered account with the link from its confirmation mail (single use)."""
    now = now or utcnow()
    row = _valid_token(token, now)
    user = row.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
    _retire_reset_links(user, now)
    user.last_login_at = now
    db.session.flush()
    return user


def authenticate(email: str, password: str, *, now: datetime | None = None) -> User | None:
    """The active user with this e-mail and password, else None (one answer for every failure).

    An unknown address still costs one argon2 verification, so timing does not tell which
    addresses have accounts. A deactivated account with the right password is told so
    (``NotPermitted``, code ``account_disabled``): only someone who knows the password learns it.
    """
    try:
        address = normalise_email(email)
    except InvalidRequest:
        address = None
    user = db.session.scalar(select(User).where(User.email == address)) if address else None
    if user is None:
        verify_password(DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if not user.active:
        raise NotPermitted(
            N_("This account is deactivated. Please contact the city's administration."),
            code="account_disabled",
        )
    if user.email_confirmed_at is None:
        raise NotPermitted(
            N_(
                "Please confirm your e-mail address first: open the link in the mail we sent "
                "you. No mail? Register again with the same address for a new link."
            ),
            code="address_unconfirmed",
        )
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now or utcnow()
    db.session.flush()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _issue_link(user: User, now: datetime, lifetime: timedelta) -> str:
    """A single-use token for a mailed link that proves the mailbox (reset, invitation,
    confirmation); only its hash is stored. Returns the token for the link."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordResetToken(
            user=user, token_hash=_token_hash(token), created_at=now, expires_at=now + lifetime
        )
    )
    return token


def request_password_reset(email: str, *, now: datetime | None = None) -> None:
    """Mail a single-use reset link if an active account has this address; otherwise do nothing.

    The caller answers the same either way, so nobody learns which addresses are registered.
    """
    from booking.services.notifications import send_password_reset

    try:
        address = normalise_email(email)
    except InvalidRequest:
        return
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None or not user.active:
        return
    now = now or utcnow()
    token = _issue_link(user, now, RESET_TOKEN_LIFETIME)
    send_password_reset(user, token, int(RESET_TOKEN_LIFETIME.total_seconds() // 60))
    db.session.flush()


def invite_user(
    *, email: str, name: str, language: str = "de", invited_for: str, now: datetime | None = None
) -> User:
    """Create an account for someone who has none yet and mail them a link to choose their
    password (single use, valid for a week). Until then nobody can log in to it: its password
    hash is of a random secret that nobody knows. ``invited_for`` says why (the mail names it).
    """
    from booking.services.notifications import send_invitation

    address = normalise_email(email)
    if find_user(address) is not None:
        raise InvalidRequest(
            N_("This address is already registered."), "email", code="email_registered"
        )
    user = User(
        email=address,
        name=_clean_name(name),
        password_hash=hash_password(secrets.token_urlsafe(32)),
        language=_check_language(language),
    )
    db.session.add(user)
    db.session.flush()
    now = now or utcnow()
    token = _issue_link(user, now, INVITATION_LIFETIME)
    send_invitation(user, token, invited_for, INVITATION_LIFETIME.days)
    db.session.flush()
    return user


def _valid_token(token: str, now: datetime) -> PasswordResetToken:
    row = db.session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= now or not row.user.active:
        raise InvalidRequest(
            N_("This link is not valid any more. Please ask for a new one."), "token"
        )
    return row


def check_reset_token(token: str, *, now: datetime | None = None) -> None:
    """Raise InvalidRequest unless the token can still be used (for showing the form)."""
    _valid_token(token, now or utcnow())


def reset_password(token: str, new_password: str, *, now: datetime | None = None) -> User:
    """Set a new password with a reset token; the token and its siblings stop working."""
    now = now or utcnow()
    row = _valid_token(token, now)
    check_password_strength(new_password)
    user = row.user
    user.password_hash = hash_password(new_password)
    if user.email_confirmed_at is None:  # the link came to this address: it is proved
        user.email_confirmed_at = now
    _retire_reset_links(user, now)  # every open link of this user dies with the first one used
    end_all_sessions(user)  # whoever knew the old password is logged out everywhere
    db.session.flush()
    return user


def _retire_reset_links(user: User, now: datetime) -> None:
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )


def change_password(user, current_password: str, new_password: str) -> None:
    user = require_user(user)
    if not verify_password(user.password_hash, current_password):
        raise InvalidRequest(N_("The current password is not right."), "current_password")
    check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    # A reset link mailed before the change must not undo it.
    _retire_reset_links(user, utcnow())
    # Every session and remember-me cookie ends; the web view starts a new one for the device
    # that changed it.
    end_all_sessions(user)
    db.session.flush()


def end_all_sessions(user) -> None:
    """Log this user out everywhere: every login session and remember-me cookie issued so far
    stops working on its next request (their rows in ``login_session`` go)."""
    login_sessions.end_all(user)
    db.session.flush()


def update_profile(user, *, name: str, language: str) -> User:
    user = require_user(user)
    user.name = _clean_name(name)
    user.language = _check_language(language)
    db.session.flush()
    return user


def set_language(user, language: str) -> None:
    """Keep a chosen language as the account's setting (from the language switch)."""
    user = require_user(user)
    user.language = _check_language(language)
    db.session.flush()


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
    if name:
        check_single_line(name.strip(), "name")  # as the register form: it stands in mails
    if user is None:
        if not name or not name.strip():
            raise InvalidRequest(N_("A new user needs a name."), "name")
        if password is None:
            raise InvalidRequest(N_("A new user needs a password."), "password")
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
            raise InvalidRequest(N_("There is no site %(id)d."), "manages", id=site_id)
        if site not in user.managed_sites:
            user.managed_sites.append(site)
    for organisation_id in member_of:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise InvalidRequest(
                N_("There is no organisation %(id)d."), "member_of", id=organisation_id
            )
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
