"""Personal calendar feed tokens and the change log that keeps feed validators monotonic."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow


class FeedToken(db.Model):
    """The secret in a user's personal feed URL, stored as its SHA-256 hex digest only.

    One per user: regenerating replaces the row, so the old URL stops working at once.
    """

    __tablename__ = "feed_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedChange(db.Model):
    """Something in a feed scope changed at ``changed_at`` (written at commit time).

    Append-only, so concurrent transactions never contend for a row; a scope's watermark is
    ``max(changed_at)``, which deleting bookings cannot lower. Scopes: ``*`` (any room, site or
    organisation detail), ``all`` (any booking), ``site:<id>``, ``booking:<id>``, ``org:<id>``,
    ``user:<id>`` and ``public``.
    """

    __tablename__ = "feed_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_feed_change_scope_changed_at", "scope", "changed_at"),)
