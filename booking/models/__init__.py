"""The data model. Import models from here."""

from booking.models.api import ApiToken
from booking.models.bookings import BOOKING_TEXT_VECTOR, AuditEvent, Booking, Occupancy, Occurrence
from booking.models.enums import (
    ApprovalPolicy,
    JoinStatus,
    MemberRole,
    OccurrenceStatus,
    OfferAudience,
    OfferCategory,
    OrganisationKind,
    RequestMails,
    SiteKind,
)
from booking.models.feeds import FeedChange, FeedToken
from booking.models.mail import OutboxMessage
from booking.models.people import (
    JoinRequest,
    MemberInvitation,
    Membership,
    Organisation,
    User,
    site_manager,
)
from booking.models.places import (
    CatalogueVersion,
    Closure,
    Feature,
    OpeningException,
    OpeningWindow,
    Room,
    RoomFeature,
    Site,
)
from booking.models.sessions import LoginSession
from booking.models.tokens import PasswordResetToken
from booking.models.types import UTCDateTime, utcnow

# Session listeners that record which calendar feeds a transaction changes (after the mappers).
from booking.models import feed_changes  # noqa: F401  isort: skip

__all__ = [
    "BOOKING_TEXT_VECTOR",
    "ApiToken",
    "ApprovalPolicy",
    "AuditEvent",
    "Booking",
    "CatalogueVersion",
    "Closure",
    "Feature",
    "FeedChange",
    "FeedToken",
    "JoinRequest",
    "JoinStatus",
    "LoginSession",
    "MemberInvitation",
    "MemberRole",
    "Membership",
    "Occupancy",
    "Occurrence",
    "OccurrenceStatus",
    "OfferAudience",
    "OfferCategory",
    "OpeningException",
    "OpeningWindow",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "PasswordResetToken",
    "RequestMails",
    "Room",
    "RoomFeature",
    "Site",
    "SiteKind",
    "UTCDateTime",
    "User",
    "site_manager",
    "utcnow",
]
