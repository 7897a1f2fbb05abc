"""Login sessions on the server: start, resolve, resume from "stay logged in", end.

A session key (kept in the signed session cookie) is ``"<user id>:<session id>:<secret>"``; a
remember-me token (its own cookie) is ``"<session id>:<token>"``. Only hashes of the secrets are
stored (see ``booking.models.sessions``), so neither a leaked database nor a cookie copied before
logout opens an account.

The remember-me token changes each time it starts a new session. The token it replaced stays
good for ``GRACE`` (a browser restoring several tabs sends them side by side with the old
cookie) and only lets that request in, without a new session. A replaced token shown later
than that means two browsers hold the same token, one of them a copy: the login is ended on
both (the person logs in again; the thief stays out).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import joinedload

from booking.extensions import db
from booking.models import LoginSession, User
from booking.models.types import utcnow
from booking.services.permissions import require_user

GRACE = timedelta(seconds=60)


@dataclass(frozen=True)
class Started:
    """What the web layer puts into the cookies."""

    session_key: str
    remember_token: str | None = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _same(secret: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(_hash(secret), stored)


def start(
    user,
    *,
    remember_for: timedelta | None = None,
    user_agent: str = "",
    now: datetime | None = None,
) -> Started:
    """A new login of ``user`` on one device; ``remember_for`` for "stay logged in"."""
    user = require_user(user)
    now = now or utcnow()
    _forget_stale(user, now)
    secret = secrets.token_urlsafe(32)
    row = LoginSession(
        user_id=user.id, secret_hash=_hash(secret), created_at=now, user_agent=user_agent[:200]
    )
    remember = None
    if remember_for is not None:
        remember = secrets.token_urlsafe(32)
        row.remember_hash = _hash(remember)
        row.remember_until = now + remember_for
    db.session.add(row)
    db.session.flush()
    return Started(
        session_key=f"{user.id}:{row.id}:{secret}",
        remember_token=remember and f"{row.id}:{remember}",
    )


# A login without "stay logged in" lives in a browser-session cookie that Flask re-signs while it
# is used; one older than this was surely closed long ago.
STALE_AFTER = timedelta(days=30)


def _unusable(now: datetime):
    """Logins no cookie can use any more: an expired "stay logged in", or a plain login older
    than ``STALE_AFTER``."""
    return or_(
        LoginSession.remember_until < now,
        and_(LoginSession.remember_hash.is_(None), LoginSession.created_at < now - STALE_AFTER),
    )


def _forget_stale(user: User, now: datetime) -> None:
    """Drop the user's unusable logins, so the table and the profile's list of devices stay
    short between two runs of ``flask purge``."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id, _unusable(now)))


def purge(now: datetime | None = None) -> int:
    """Drop every unusable login (``flask purge``); returns how many."""
    now = now or utcnow()
    return db.session.execute(delete(LoginSession).where(_unusable(now))).rowcount or 0


def _parse(value: str, parts: int) -> list[str] | None:
    pieces = value.split(":")
    if len(pieces) != parts or not all(p.isdigit() and len(p) < 19 for p in pieces[:-1]):
        return None
    return pieces


def resolve(session_key: str) -> User | None:
    """The user a session key belongs to, or None when the login has ended (logged out, on all
    devices, password changed, account deactivated) or the key was never issued."""
    pieces = _parse(session_key, 3)
    if pieces is None:
        return None
    # One round trip on every request of a logged-in person: the login with its user.
    row = db.session.get(LoginSession, int(pieces[1]), options=[joinedload(LoginSession.user)])
    if row is None or row.user_id != int(pieces[0]) or not _same(pieces[2], row.secret_hash):
        return None
    return row.user if row.user.active else None


@dataclass(frozen=True)
class Resumed:
    user: User
    started: Started | None  # None: let in for this request only (a replaced token, in grace)


def resume(remember_token: str, *, now: datetime | None = None) -> Resumed | None:
    """A session from a remember-me token: a new session secret and a new token, the old token
    kept for ``GRACE``. None when the token is unknown, expired or ended."""
    now = now or utcnow()
    pieces = _parse(remember_token, 2)
    if pieces is None:
        return None
    row = db.session.get(LoginSession, int(pieces[0]))
    if row is None or row.remember_hash is None:
        return None
    if row.remember_until is None or row.remember_until <= now or not row.user.active:
        return None
    token = pieces[1]
    if _same(token, row.remember_hash):
        secret, fresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        row.secret_hash = _hash(secret)
        row.previous_remember_hash, row.remember_hash = row.remember_hash, _hash(fresh)
        row.rotated_at = now
        db.session.flush()
        return Resumed(row.user, Started(f"{row.user_id}:{row.id}:{secret}", f"{row.id}:{fresh}"))
    if _same(token, row.previous_remember_hash):
        if row.rotated_at is not None and now - row.rotated_at <= GRACE:
            return Resumed(row.user, None)
        # A replaced token came back after the grace period: a copy is in use somewhere.
        db.session.delete(row)
        db.session.flush()
    return None


def end(session_key: str | None) -> None:
    """Log out on this device: the login behind ``session_key`` ends (a no-op when it has)."""
    pieces = _parse(session_key or "", 3)
    if pieces is not None:
        db.session.execute(
            delete(LoginSession).where(
                LoginSession.id == int(pieces[1]), LoginSession.user_id == int(pieces[0])
            )
        )


def end_remembered(remember_token: str) -> None:
    """End the login a (current) remember-me token belongs to: the browser logs in anew."""
    pieces = _parse(remember_token, 2)
    if pieces is None:
        return
    row = db.session.get(LoginSession, int(pieces[0]))
    if row is not None and _same(pieces[1], row.remember_hash):
        db.session.delete(row)
        db.session.flush()


def end_all(user, *, keep: str | None = None) -> int:
    """Log ``user`` out everywhere, except the login behind ``keep`` if given (the device that
    changed the password goes on). Returns how many logins ended."""
    user = require_user(user)
    statement = delete(LoginSession).where(LoginSession.user_id == user.id)
    pieces = _parse(keep or "", 3)
    if pieces is not None:
        statement = statement.where(LoginSession.id != int(pieces[1]))
    return db.session.execute(statement).rowcount


def of_user(user) -> list[LoginSession]:
    """The user's logins, newest first (the profile lists them)."""
    user = require_user(user)
    return list(
        db.session.scalars(
            select(LoginSession)
            .where(LoginSession.user_id == user.id)
            .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
        )
    )


def end_one(user, session_id: int) -> bool:
    """Log out one of ``user``'s own devices (from the profile); False if it is not theirs."""
    user = require_user(user)
    result = db.session.execute(
        delete(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user.id)
    )
    return result.rowcount > 0


def session_id(session_key: str | None) -> int | None:
    pieces = _parse(session_key or "", 3)
    return int(pieces[1]) if pieces else None
