"""The sites' photos: ``/sites/<id>/photo``, for the public site page and the site's form."""

from __future__ import annotations

from flask import abort, current_app, request, send_file
from flask_login import current_user

from booking.extensions import db
from booking.models import Site
from booking.services import permissions, site_photos
from booking.web import bp

# A link with ``?v=<file name>`` names one file for ever (a new photo gets a new name), so
# browsers and proxies may keep it; without it, they ask again after a short while.
CACHE_FOREVER = 365 * 24 * 3600
CACHE_SHORT = 300


@bp.get("/sites/<int:site_id>/photo")
def site_photo(site_id: int):
    site = db.session.get(Site, site_id)
    if site is None:
        abort(404)
    public = site.active
    if not public and not permissions.can_manage_site(current_user, site.id):
        abort(404)  # an inactive site is shown to nobody but its managers
    found = site_photos.photo_file(site, site_photos.folder(current_app.instance_path))
    if found is None:
        abort(404)
    response = send_file(found.path, mimetype=found.media_type, conditional=True, etag=True)
    if not public:
        response.cache_control.no_cache = True
        response.cache_control.private = True
    elif request.args.get("v") == site.photo:
        response.cache_control.public = True
        response.cache_control.max_age = CACHE_FOREVER
        response.cache_control.immutable = True
    else:
        response.cache_control.public = True
        response.cache_control.max_age = CACHE_SHORT
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response
