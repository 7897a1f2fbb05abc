"""Sites (buildings), their rooms, opening hours and closures."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from booking.extensions import db
from booking.models.enums import ApprovalPolicy, SiteKind
from booking.models.types import UTCDateTime, utcnow
from booking.models.util import str_enum

# Set-up and cleaning buffers are minutes, at most a day each; overlap queries rely on it.
MAX_BUFFER_MINUTES = 24 * 60


class Site(db.Model):
    """A building: a school, the library, a district house, a youth centre..."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind))
    district: Mapped[str] = mapped_column(String(100), index=True)
    street: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="Iserlohn")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    description: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    # The file name of the site's photo in the instance's upload folder (None: no photo).
    photo: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rooms: Mapped[list[Room]] = relationship(back_populates="site", order_by="Room.name")
    opening_windows: Mapped[list[OpeningWindow]] = relationship(
        primaryjoin="and_(OpeningWindow.site_id == Site.id, OpeningWindow.room_id.is_(None))",
        viewonly=True,
        order_by="(OpeningWindow.weekday, OpeningWindow.opens)",
    )
    managers: Mapped[list[User]] = relationship(  # noqa: F821  (people.py, no cycle)
        secondary="site_manager", back_populates="managed_sites", order_by="User.name"
    )

    @property
    def address(self) -> str:
        return ", ".join(p for p in (self.street, f"{self.postcode} {self.city}".strip()) if p)

    def __repr__(self) -> str:
        return f"<Site {self.id} {self.name!r}>"


class Room(db.Model):
    """A bookable space. A divisible room has parts (``parent`` is the whole).

    Occupancy is recorded per smallest part ("unit"), so booking the whole hall blocks each third
    and booking a third blocks the whole, with one overlap guard for both.
    """

    __tablename__ = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int]
    area_m2: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    house_rules: Mapped[str] = mapped_column(Text, default="")
    step_free: Mapped[bool] = mapped_column(default=False)
    accessible_toilet: Mapped[bool] = mapped_column(default=False)
    hearing_loop: Mapped[bool] = mapped_column(default=False)
    approval_policy: Mapped[ApprovalPolicy] = mapped_column(
        str_enum(ApprovalPolicy), default=ApprovalPolicy.MANUAL
    )
    min_lead_minutes: Mapped[int] = mapped_column(default=0)
    max_advance_days: Mapped[int | None] = mapped_column(default=400)
    min_duration_minutes: Mapped[int | None] = mapped_column(default=30)
    max_duration_minutes: Mapped[int | None] = mapped_column(default=12 * 60)
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="rooms")
    parent: Mapped[Room | None] = relationship(remote_side=[id], back_populates="parts")
    parts: Mapped[list[Room]] = relationship(back_populates="parent", order_by="Room.name")
    feature_rows: Mapped[list[RoomFeature]] = relationship(
        cascade="all, delete-orphan", order_by="RoomFeature.feature"
    )

    __table_args__ = (
        UniqueConstraint("site_id", "name", name="uq_room_site_id_name"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("buffer_before_minutes >= 0 AND buffer_after_minutes >= 0", name="buffers"),
    )

    @validates("buffer_before_minutes", "buffer_after_minutes")
    def _check_buffer(self, key: str, value: int) -> int:
        if value is not None and not 0 <= value <= MAX_BUFFER_MINUTES:
            raise ValueError(f"{key} must be between 0 and {MAX_BUFFER_MINUTES} minutes")
        return value

    @property
    def features(self) -> list[str]:
        """The keys of the room's equipment (see ``Feature``), in key order."""
        return [row.feature for row in self.feature_rows]

    @features.setter
    def features(self, values) -> None:
        wanted = {str(v) for v in values}
        self.feature_rows = [r for r in self.feature_rows if r.feature in wanted]
        have = {r.feature for r in self.feature_rows}
        self.feature_rows.extend(RoomFeature(feature=f) for f in sorted(wanted - have))

    @property
    def label(self) -> str:
        return f"{self.name} ({self.site.name})"

    def __repr__(self) -> str:
        return f"<Room {self.id} {self.name!r}>"


class Feature(db.Model):
    """A kind of equipment rooms can have, from the list administrators keep (migration 0009
    seeded it): ``key`` is the stable word the API, the search links and the CSV import use
    ("projector"); the labels are what readers see in German and in English.

    Features are never deleted, only deactivated: an inactive feature stays on the rooms that
    have it (and is shown there) but cannot be newly chosen for a room or searched for."""

    __tablename__ = "feature"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_de: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)  # the lists' order (then the key)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Feature {self.key!r}>"


class RoomFeature(db.Model):
    """One piece of equipment of a room; a row each so the search can filter with an index."""

    __tablename__ = "room_feature"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), primary_key=True
    )
    feature: Mapped[str] = mapped_column(String(32), ForeignKey("feature.key"), primary_key=True)

    __table_args__ = (Index("ix_room_feature_feature", "feature", "room_id"),)


class OpeningWindow(db.Model):
    """A weekly window when a site (or, overriding it, one room) can be booked.

    Minutes after local midnight; ``closes`` may be 1440 (midnight at the end of the day).
    A room with windows of its own ignores the site's; a site with none is always open.
    """

    __tablename__ = "opening_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]
    opens: Mapped[int]
    closes: Mapped[int]

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens >= 0 AND closes <= 1440 AND opens < closes", name="window"),
    )


class OpeningException(db.Model):
    """Different hours on one date for a site (or one room): a short day before a holiday, an
    evening event. ``opens``/``closes`` are minutes after local midnight, like the weekly
    windows; both None means closed that day. A room's exception overrides the site's."""

    __tablename__ = "opening_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date]
    opens: Mapped[int | None]
    closes: Mapped[int | None]
    reason: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        CheckConstraint(
            "(opens IS NULL AND closes IS NULL)"
            " OR (opens >= 0 AND closes <= 1440 AND opens < closes)",
            name="hours",
        ),
        Index("ix_opening_exception_site_id_day", "site_id", "day"),
    )


class Closure(db.Model):
    """A period when a whole site or one room cannot be booked (holidays, renovation)."""

    __tablename__ = "closure"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))
    # Where an imported closure came from (the calendar event's UID), so re-imports update it.
    source_uid: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()
    room: Mapped[Room | None] = relationship()

    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        Index("ix_closure_site_id_starts_at", "site_id", "starts_at"),
        UniqueConstraint("site_id", "room_id", "source_uid", name="uq_closure_source"),
    )


class CatalogueVersion(db.Model):
    """One row whose ``version`` changes with every change to sites, rooms, room features, the
    feature list, opening windows and opening exceptions, set by database triggers (migrations
    0006, 0007, 0009) whoever writes: the ORM, a bulk import or a console. Versions are random,
    so one never comes back after a rollback. The per-process catalogue cache
    (``booking.services.catalogue``) compares against it."""

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
