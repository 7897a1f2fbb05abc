"""Bookings (a request or series), their dated occurrences, occupancy and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.models.enums import OccurrenceStatus, OfferAudience, OfferCategory
from booking.models.people import Organisation, User
from booking.models.places import Room
from booking.models.types import UTCDateTime, utcnow
from booking.models.util import str_enum

# A booking's title and description as German text-search words (PostgreSQL): the expression
# of the GIN index of migration 0017, which queries must repeat to use it, bracketed as
# PostgreSQL shows it back (so that comparing the models with the database finds them equal).
BOOKING_TEXT_VECTOR = (
    "to_tsvector('german', (coalesce(title, '') || ' ') || coalesce(description, ''))"
)


class Booking(db.Model):
    """What was asked for: one date or a series, by a user, usually for an organisation."""

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    attendees: Mapped[int | None]
    is_public: Mapped[bool] = mapped_column(default=False)
    # What a public booking tells the people looking for open offers (migration 0018).
    offer_category: Mapped[OfferCategory | None] = mapped_column(str_enum(OfferCategory))
    offer_audience: Mapped[OfferAudience | None] = mapped_column(str_enum(OfferAudience))
    offer_languages: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    free_of_charge: Mapped[bool] = mapped_column(default=False, server_default=false())
    drop_in: Mapped[bool] = mapped_column(default=False, server_default=false())
    # RFC 5545 RRULE value of the series as requested (None for a single date); the occurrence
    # rows are the truth for what is booked.
    rrule: Mapped[str | None] = mapped_column(String(500))
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)
    skip_closures: Mapped[bool] = mapped_column(default=False)
    # Idempotent submission: the booking form's one-time key (or "api:<user id>:<the API's
    # Idempotency-Key>"), unique, so a repeated submission finds this booking instead of making
    # a second one; and a digest of what was submitted, so a reused key with another body is
    # told apart.
    submission_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    submission_digest: Mapped[str | None] = mapped_column(String(64))
    house_rules_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When the retention rule (``flask purge``, services/privacy.py) took the personal data out
    # of this old booking; None while it still holds them. Marks the work as done, so a second
    # run neither repeats nor counts it.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    room: Mapped[Room] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    requested_by: Mapped[User | None] = relationship()
    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="Occurrence.starts_at"
    )

    __table_args__ = (
        CheckConstraint("attendees IS NULL OR attendees >= 0", name="attendees"),
        # Full-text search over the open offers (migration 0017; SQLite has an FTS5 table).
        Index("ix_booking_text_search", text(BOOKING_TEXT_VECTOR), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    def __repr__(self) -> str:
        return f"<Booking {self.id}>"


class Occurrence(db.Model):
    """One dated slot of a booking, with its own status (a series can be partly declined)."""

    __tablename__ = "occurrence"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    # Copied from the booking so one table answers "what happens in this room when".
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[OccurrenceStatus] = mapped_column(str_enum(OccurrenceStatus))
    # The manager's comment on approval or reason for a decline; the requester's for a cancel.
    status_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # iCal SEQUENCE: grows whenever the date's time, room or status changes.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="occurrences")
    room: Mapped[Room] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        Index("ix_occurrence_booking_id_starts_at", "booking_id", "starts_at"),
        Index("ix_occurrence_room_id_starts_at", "room_id", "starts_at"),
        Index("ix_occurrence_starts_at_status", "starts_at", "status"),
        Index("ix_occurrence_updated_at", "updated_at"),
    )

    def __repr__(self) -> str:
        return f"<Occurrence {self.id} {self.status} {self.starts_at:%Y-%m-%d %H:%M}Z>"


class Occupancy(db.Model):
    """The time an approved occurrence blocks one unit (smallest part) of a room.

    Rows exist only while the occurrence is approved. ``starts_at``/``ends_at`` include the booked
    room's buffers (set-up and cleaning), so the guard keeps them free as well. On PostgreSQL the
    exclusion constraint makes overlapping rows for one unit impossible, whatever the application
    does; on SQLite the service's write-locked transaction does the same job.
    """

    __tablename__ = "occupancy"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("occurrence.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        Index("ix_occupancy_unit_id_starts_at", "unit_id", "starts_at", "ends_at"),
        ExcludeConstraint(
            ("unit_id", "="),
            (func.tstzrange(text("starts_at"), text("ends_at"), text("'[)'")), "&&"),
            name="ex_occupancy_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
        # The time range alone, for searches over many rooms at once (migration 0005).
        Index(
            "ix_occupancy_period",
            func.tstzrange(text("starts_at"), text("ends_at"), text("'[)'")),
            postgresql_using="gist",
        ).ddl_if(dialect="postgresql"),
    )


class AuditEvent(db.Model):
    """Who did what, when and why: to a booking, a site or room (its data, opening hours,
    closures), a manager assignment, an organisation or a user. Never updated and never deleted,
    except by the privacy rules: a deleted account's identity leaves its events, and the
    retention rule empties events older than its period (``anonymised_at``).

    The subject columns say what an event is about, so the history of a booking, a room, a site
    or an organisation is one indexed query: a booking's events also name its room and site, a
    room's events its site. ``details`` holds what changed (``{"changes": {field: [old, new]}}``
    and the like).
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("site.id", ondelete="SET NULL"), index=True
    )
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("room.id", ondelete="SET NULL"), index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    # The person an event is about (a manager assigned, a user deactivated), not the actor.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    occurrence_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the retention rule removed the people (actor, subject) and the free text from this
    # old event, keeping what happened and to which booking, room or site (services/privacy.py).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
