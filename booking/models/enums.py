"""Vocabularies stored as strings (StrEnum): readable in the database and in the API."""

from __future__ import annotations

from enum import StrEnum


class SiteKind(StrEnum):
    SCHOOL = "school"
    LIBRARY = "library"
    DISTRICT_HOUSE = "district_house"
    YOUTH_CENTRE = "youth_centre"
    CHURCH_HALL = "church_hall"
    SENIOR_CENTRE = "senior_centre"
    ADULT_EDUCATION = "adult_education"
    # Outdoor and public spaces.
    SQUARE = "square"
    OPEN_AIR_STAGE = "open_air_stage"
    SCHOOLYARD = "schoolyard"
    PARK = "park"
    OTHER = "other"


class ApprovalPolicy(StrEnum):
    MANUAL = "manual"
    AUTOMATIC = "automatic"
    TRUSTED = "trusted"  # automatic for trusted organisations, manual for everyone else


class OrganisationKind(StrEnum):
    ASSOCIATION = "association"
    INITIATIVE = "initiative"
    SCHOOL = "school"
    CITY_DEPARTMENT = "city_department"
    CHURCH = "church"
    OTHER = "other"


class JoinStatus(StrEnum):
    """Where a request to join an organisation stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class MemberRole(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"  # may add and remove members


class RequestMails(StrEnum):
    """How a site manager is told of new requests."""

    EACH = "each"
    DIGEST = "digest"
    NONE = "none"


class OccurrenceStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class OfferCategory(StrEnum):
    """What a public booking (an open offer) is about, for people filtering the offers."""

    SPORT = "sport"
    MUSIC = "music"
    CULTURE = "culture"
    LEARNING = "learning"
    LANGUAGE_CAFE = "language_cafe"
    COUNSELLING = "counselling"
    YOUTH = "youth"
    SENIORS = "seniors"
    FAMILIES = "families"
    OTHER = "other"


class OfferAudience(StrEnum):
    """Whom an open offer is for."""

    EVERYONE = "everyone"
    CHILDREN = "children"
    YOUTH = "youth"
    ADULTS = "adults"
    SENIORS = "seniors"
    FAMILIES = "families"
