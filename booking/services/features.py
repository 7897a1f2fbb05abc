"""The equipment list: the kinds of equipment rooms can have, kept by administrators.

Each feature has a stable ``key`` (lowercase letters, digits and underscores: "projector",
"hdmi_projector"), which the API, search links and the CSV import use, and a German and an
English label for readers. Administrators add features, change their labels and order, and
deactivate or reactivate them; features are never deleted, so a key never changes its meaning.

An inactive feature stays on the rooms that have it and is shown there, but it is no longer
offered: it cannot be newly chosen for a room (a room keeps it until it is unticked) and it is
not a search filter (a search for it is refused like an unknown key).

Audit rows: ``feature_created`` and ``feature_updated``, with the ``key`` and the ``changes``
(each field as ``[old, new]``, ``active`` included), as sites and rooms have them. Pages and
the API read the list from the catalogue (``catalogue.current().features``), which the feature
table's triggers keep current.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking.database import begin_write
from booking.extensions import db
from booking.models import Feature, RoomFeature
from booking.services import audit as audit_trail
from booking.services import catalogue, permissions
from booking.services.errors import N_, InvalidRequest, NotFound, NotPermitted

KEY_MAX = 32
LABEL_MAX = 100
POSITION_MAX = 1_000_000
POSITION_STEP = 10  # a new feature goes this far after the last one
KEY_PATTERN = re.compile(r"^[a-z0-9_]+$")
# German letters a key made from a label keeps readable (the rest lose their accents).
_SPELLED = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@dataclass(frozen=True)
class FeatureCommand:
    """A new feature (``key`` empty: made from the English label) or the new values of one;
    ``position`` None: after the last one (a new feature) or unchanged."""

    label_de: str
    label_en: str
    key: str = ""
    position: int | None = None


@dataclass(frozen=True)
class ListedFeature:
    feature: Feature
    rooms: int  # how many rooms have it


def require_admin(user):
    user = permissions.require_user(user)
    if not user.is_admin:
        raise NotPermitted(
            N_("Only administrators may change the list of equipment."), code="admin_only"
        )
    return user


# --- reading ----------------------------------------------------------------------------------


def list_features(user) -> list[ListedFeature]:
    """Every feature, active or not, in the lists' order, with the number of rooms having it."""
    require_admin(user)
    counts = {
        key: n
        for key, n in db.session.execute(
            select(RoomFeature.feature, func.count()).group_by(RoomFeature.feature)
        )
    }
    found = db.session.scalars(select(Feature).order_by(Feature.position, Feature.key))
    return [ListedFeature(f, counts.get(f.key, 0)) for f in found]


def feature_for_editing(user, key: str) -> Feature:
    require_admin(user)
    found = db.session.get(Feature, key) if isinstance(key, str) else None
    if found is None:
        raise NotFound(N_("There is no such equipment."))
    return found


def suggest_key(label: str) -> str:
    """A key made from a label: "Projector with HDMI" gives "projector_with_hdmi"."""
    text = unicodedata.normalize("NFKD", (label or "").lower().translate(_SPELLED))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:KEY_MAX].rstrip("_")


def check_room_features(
    keys: Iterable[Any], *, had: Iterable[str] | None = None
) -> tuple[str, ...]:
    """Sorted, distinct feature keys for a room; ``InvalidRequest`` on ``features`` for a key
    that is not in the list. With ``had`` (what the room has now; empty for a new room) an
    inactive feature is refused unless the room already has it."""
    try:
        given = list(keys)
    except TypeError:
        given = [None]
    if any(not isinstance(k, str) for k in given):
        raise InvalidRequest(
            N_("Please choose equipment from the list."), "features", code="feature_unknown"
        )
    wanted = sorted(set(given))
    listed = catalogue.current().features
    unknown = [k for k in wanted if k not in listed]
    if unknown:
        raise InvalidRequest(
            N_("Please choose equipment from the list (unknown: %(keys)s)."),
            "features",
            code="feature_unknown",
            keys=", ".join(unknown),
        )
    if had is not None:
        kept = set(had)
        retired = [k for k in wanted if not listed[k].active and k not in kept]
        if retired:
            raise InvalidRequest(
                N_("This equipment is no longer offered: %(keys)s."),
                "features",
                code="feature_inactive",
                keys=", ".join(retired),
            )
    return tuple(wanted)


def check_search_features(keys: Iterable[str]) -> tuple[str, ...]:
    """The keys of a search; only active features are search filters."""
    listed = catalogue.current().features
    wanted = tuple(dict.fromkeys(k.strip() for k in keys if k.strip()))
    unknown = [k for k in wanted if k not in listed or not listed[k].active]
    if unknown:
        raise InvalidRequest(
            N_("Please choose equipment from the list (unknown: %(keys)s)."),
            "features",
            code="feature_unknown",
            keys=", ".join(unknown),
        )
    return wanted


# --- changing ---------------------------------------------------------------------------------


def _label(value: Any, field_name: str) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or "\x00" in text:
        raise InvalidRequest(N_("Please check this entry."), field_name, code="invalid_text")
    if not text:
        raise InvalidRequest(N_("Please enter a name."), field_name, code=f"{field_name}_missing")
    if len(text) > LABEL_MAX:
        raise InvalidRequest(
            N_("At most %(max)d characters, please."),
            field_name,
            code=f"{field_name}_too_long",
            max=LABEL_MAX,
        )
    return text


def _position(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= POSITION_MAX:
        raise InvalidRequest(
            N_("Please enter a whole number from %(low)d to %(high)d."),
            "position",
            code="position_out_of_range",
            low=0,
            high=POSITION_MAX,
        )
    return value


def _key(value: Any, label_en: str) -> str:
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidRequest(N_("Please check this entry."), "key", code="invalid_text")
    key = value.strip() or suggest_key(label_en)
    if not key:
        raise InvalidRequest(
            N_("Please enter a key: lowercase letters, digits and underscores."),
            "key",
            code="key_missing",
        )
    if len(key) > KEY_MAX:
        raise InvalidRequest(
            N_("At most %(max)d characters, please."), "key", code="key_too_long", max=KEY_MAX
        )
    if not KEY_PATTERN.match(key):
        raise InvalidRequest(
            N_("Only lowercase letters, digits and underscores, please."),
            "key",
            code="key_invalid",
        )
    return key


def create_feature(user, cmd: FeatureCommand) -> Feature:
    begin_write()  # SQLite: the write lock before the key is checked
    user = require_admin(user)
    label_de = _label(cmd.label_de, "label_de")
    label_en = _label(cmd.label_en, "label_en")
    key = _key(cmd.key, label_en)
    position = _position(cmd.position)
    if db.session.get(Feature, key) is not None:
        raise InvalidRequest(
            N_("The key %(key)s is taken already; please choose another."),
            "key",
            code="key_taken",
            key=key,
        )
    if position is None:
        last = db.session.scalar(select(func.max(Feature.position)))
        position = min((last or 0) + POSITION_STEP, POSITION_MAX)
    feature = Feature(key=key, label_de=label_de, label_en=label_en, position=position, active=True)
    try:
        with db.session.begin_nested():  # PostgreSQL: another admin may add the key meanwhile
            db.session.add(feature)
    except IntegrityError:
        raise InvalidRequest(
            N_("The key %(key)s is taken already; please choose another."),
            "key",
            code="key_taken",
            key=key,
        ) from None
    values = {"label_de": label_de, "label_en": label_en, "position": position, "active": True}
    audit_trail.record(
        "feature_created",
        user,
        key=key,
        changes={name: [None, value] for name, value in values.items()},
    )
    return feature


def _change(user, feature: Feature, values: dict[str, Any]) -> bool:
    changes = {
        name: [getattr(feature, name), value]
        for name, value in values.items()
        if getattr(feature, name) != value
    }
    if not changes:
        return False
    for name, (_old, new) in changes.items():
        setattr(feature, name, new)
    db.session.flush()
    audit_trail.record("feature_updated", user, key=feature.key, changes=changes)
    return True


def update_feature(user, key: str, cmd: FeatureCommand) -> tuple[Feature, bool]:
    """New labels and position (the key stays); ``changed`` False when nothing differed."""
    begin_write()
    user = require_admin(user)
    feature = feature_for_editing(user, key)
    values: dict[str, Any] = {
        "label_de": _label(cmd.label_de, "label_de"),
        "label_en": _label(cmd.label_en, "label_en"),
    }
    position = _position(cmd.position)
    if position is not None:
        values["position"] = position
    return feature, _change(user, feature, values)


def set_active(user, key: str, active: bool) -> tuple[Feature, bool]:
    """Offer a feature again, or no longer; ``changed`` False when it already was so."""
    begin_write()
    user = require_admin(user)
    feature = feature_for_editing(user, key)
    return feature, _change(user, feature, {"active": bool(active)})
