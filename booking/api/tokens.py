"""Creating, revoking and checking API tokens. Callers commit."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from flask import Response, after_this_request, g, has_request_context
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload

from booking.extensions import db
from booking.models import ApiToken, User
from booking.services.errors import N_, InvalidRequest, NotFound
from booking.services.permissions import require_user

log = logging.getLogger(__name__)

NAME_MAX = 100
TOKEN_PREFIX = "rb_"  # noqa: S105 (a marker, not a secret)
# last_used_at is for "which token is still in use?", not an audit log: write it at most this
# often so that every API call does not become a write.
TOUCH_EVERY = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the plain token is returned once and never stored."""
    user = require_user(user)
    name = (name or "").strip()
    if not name:
        raise InvalidRequest(N_("Please give the token a name."), "name", code="name_missing")
    if any(ord(c) < 32 for c in name):
        raise InvalidRequest(
            N_("Please use no control characters in the name."), "name", code="name_invalid"
        )
    if len(name) > NAME_MAX:
        raise InvalidRequest(
            N_("The name may have at most %(max)d characters."),
            "name",
            code="name_too_long",
            max=NAME_MAX,
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    token = ApiToken(user=user, name=name, token_hash=hash_token(plain), prefix=plain[:10])
    db.session.add(token)
    db.session.flush()
    return token, plain


def user_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at, ApiToken.id)
        )
    )


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (administrators: anyone's)."""
    token = db.session.get(ApiToken, token_id)
    if (
        token is None
        or token.revoked_at is not None
        or (token.user_id != user.id and not user.is_admin)
    ):
        raise NotFound(N_("There is no such token."))
    token.revoked_at = datetime.now(UTC)
    db.session.flush()
    return token


def _by_hash(token_hash: str) -> ApiToken | None:
    """The token with this hash and its user, in one query, asked once per request (the rate
    limit's key and the authentication both need it)."""
    found = g.setdefault("api_tokens_by_hash", {}) if has_request_context() else {}
    if token_hash not in found:
        found[token_hash] = db.session.scalar(
            select(ApiToken)
            .where(ApiToken.token_hash == token_hash)
            .options(joinedload(ApiToken.user))
        )
    return found[token_hash]


def is_active_hash(token_hash: str) -> bool:
    token = _by_hash(token_hash)
    return token is not None and token.revoked_at is None


def authenticate(plain: str, *, now: datetime | None = None) -> ApiToken | None:
    """The active token with this value whose user is active, else None."""
    if not plain or len(plain) > 200:
        return None
    token = _by_hash(hash_token(plain))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = now or datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        _touch_later(token.id, now)
    return token


def _touch_later(token_id: int, now: datetime) -> None:
    """Note the use once the answer has been sent (at once outside a request)."""
    if not has_request_context():
        _touch(db.engine, token_id, now)
        return
    engine = db.engine

    @after_this_request
    def _after_answer(response: Response) -> Response:
        response.call_on_close(lambda: _touch(engine, token_id, now))
        return response


def _touch(engine: Engine, token_id: int, now: datetime) -> None:
    """Note when a token was last used, in a short transaction of its own, after the answer.

    Bookkeeping, not part of the request's work: it is committed whatever the request's answer,
    and it never takes the request's own transaction into a write (on SQLite that would turn a
    read into a writer before a booking service takes the write lock in the proper way). Nor can
    it fail or slow the request: it runs when the answer has been sent, and a database that is
    busy or gone only means the note waits for a later call.
    """
    try:
        with engine.begin() as connection:
            connection.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
    except Exception:  # whatever it is: the client has its answer already
        log.warning("Could not note the use of API token %s", token_id, exc_info=True)
