"""A site's photo: checked by its content, kept as a file in the instance's upload folder.

The file gets a random name (``<32 hex digits>.<jpg|png|webp>``, the type read from the
content, never from the uploaded name) in ``<instance>/uploads/sites/``; ``Site.photo`` holds
that name. A new file is written before the transaction ends and removed again if it rolls back;
the file it replaces is removed only once the change is committed, so a failed request never
leaves a site pointing at a missing file. The audit row is ``site_updated`` with
``changes={"photo": [old name, new name]}``.
"""

from __future__ import annotations

import logging
import re
import secrets
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.extensions import db
from booking.models import Site
from booking.services import audit as audit_trail
from booking.services import places
from booking.services.errors import N_, InvalidRequest

log = logging.getLogger(__name__)

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_MB = PHOTO_MAX_BYTES // (1024 * 1024)
PHOTO_MAX_PIXELS = 50_000_000  # a 8000 × 6000 camera picture; more is a decompression bomb
# Pillow's format name -> file extension, content type
PHOTO_TYPES = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
MEDIA_TYPES = dict(PHOTO_TYPES.values())
EXTENSIONS = ("jpg", "jpeg", "png", "webp")  # what the upload form offers
_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")

_REMOVE_ON_COMMIT = "site_photos.remove_on_commit"
_REMOVE_ON_ROLLBACK = "site_photos.remove_on_rollback"


def folder(instance_path: str | Path) -> Path:
    """Where site photos are kept: ``uploads/sites`` in the instance folder."""
    return Path(instance_path) / "uploads" / "sites"


@dataclass(frozen=True)
class StoredPhoto:
    path: Path
    media_type: str


def photo_file(site: Site, photos: Path) -> StoredPhoto | None:
    """The site's photo on disk, or None (no photo, or its file is gone)."""
    if not site.photo or not _NAME.match(site.photo):
        return None
    path = photos / site.photo
    if not path.is_file():
        return None
    return StoredPhoto(path, MEDIA_TYPES[site.photo.rsplit(".", 1)[1]])


def image_type(data: bytes) -> str:
    """The extension of a JPEG, PNG or WebP image (read from the content, decoded in full);
    InvalidRequest on ``photo`` for anything else, an empty or a too large file."""
    if not data:
        raise InvalidRequest(N_("The file is empty."), "photo", code="photo_empty")
    if len(data) > PHOTO_MAX_BYTES:
        raise InvalidRequest(
            N_("The photo is too large: at most %(max)d MB, please."),
            "photo",
            code="photo_too_large",
            max=PHOTO_MAX_MB,
        )
    not_an_image = InvalidRequest(
        N_("This file is not a JPEG, PNG or WebP image."), "photo", code="photo_type"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=list(PHOTO_TYPES)) as image:
                kind = image.format
                if image.width * image.height > PHOTO_MAX_PIXELS:
                    raise InvalidRequest(
                        N_("The photo has too many pixels: at most %(max)d megapixels, please."),
                        "photo",
                        code="photo_too_many_pixels",
                        max=PHOTO_MAX_PIXELS // 1_000_000,
                    )
                image.load()  # decode it all: a truncated or broken file fails here
    except InvalidRequest:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_an_image from None
    except Image.DecompressionBombWarning:
        raise not_an_image from None
    if kind not in PHOTO_TYPES:
        raise not_an_image
    return PHOTO_TYPES[kind][0]


def change_photo(
    user, site_id: int, photos: Path, *, data: bytes | None = None, remove: bool = False
) -> bool:
    """Give a site a new photo (``data``), or remove its photo (``remove``; a new photo wins);
    True if something changed. The site's managers and administrators may."""
    begin_write()  # SQLite: the write lock before anything is read
    site = places.site_for_editing(user, site_id)
    new_name = None
    if data is not None:
        new_name = f"{secrets.token_hex(16)}.{image_type(data)}"
    elif not remove or site.photo is None:
        return False
    old_name = site.photo
    session = db.session()
    if new_name is not None:
        photos.mkdir(parents=True, exist_ok=True)
        path = photos / new_name
        with path.open("xb") as out:
            out.write(data)
        session.info.setdefault(_REMOVE_ON_ROLLBACK, []).append(path)
    if old_name is not None and _NAME.match(old_name):
        session.info.setdefault(_REMOVE_ON_COMMIT, []).append(photos / old_name)
    site.photo = new_name
    audit_trail.record(
        "site_updated", user, site_id=site.id, changes={"photo": [old_name, new_name]}
    )
    db.session.flush()
    return True


def _remove(paths) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:  # a file left behind is harmless; a failed request is not
            log.exception("could not remove %s", path)


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    session.info.pop(_REMOVE_ON_ROLLBACK, None)  # the new files are in use now
    _remove(session.info.pop(_REMOVE_ON_COMMIT, ()))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    # Still listed after the outermost transaction ended: it was rolled back (or closed).
    session.info.pop(_REMOVE_ON_COMMIT, None)
    _remove(session.info.pop(_REMOVE_ON_ROLLBACK, ()))
