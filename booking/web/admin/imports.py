"""Sites and rooms from a CSV file (``services.room_import``), for administrators; and the
answer to an upload that is too large for any form of the administration."""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from booking.errors import error_text
from booking.models import ApprovalPolicy, SiteKind
from booking.services import catalogue, places, room_import, site_photos
from booking.web.admin import bp
from booking.web.admin.forms import ImportForm


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_rooms():
    if not places.can_create_site(current_user):
        abort(403, description=_("Only administrators may import sites and rooms."))
    form = ImportForm()
    errors: list[room_import.RowError] = []
    report = None
    if form.validate_on_submit():
        try:
            report = room_import.import_rooms(current_user, form.file.data.read())
        except room_import.ImportRejected as exc:
            errors = exc.errors
            form.file.errors = [*form.file.errors, error_text(exc)]
    page = render_template(
        "admin/import.html",
        form=form,
        errors=errors,
        report=report,
        header=room_import.HEADER,
        optional=room_import.OPTIONAL_COLUMNS,
        separator=room_import.FEATURE_SEPARATOR,
        kinds=[k.value for k in SiteKind],
        features=[f.key for f in catalogue.current().offered_features()],
        policies=[p.value for p in ApprovalPolicy],
        message=_message,
    )
    return page, 422 if form.errors else 200


def _message(error: room_import.RowError) -> str:
    return _(error.message, **error.params)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    # Raised while the form is read (in the view, or earlier by the CSRF check): say how much
    # each form takes instead of the server's generic text.
    message = _(
        "The file is too large. A site photo may have at most %(photo)d MB, a CSV file at most "
        "%(csv)d MB; every upload at most %(all)d MB.",
        photo=site_photos.PHOTO_MAX_MB,
        csv=room_import.MAX_BYTES // (1024 * 1024),
        all=(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024),
    )
    return render_template("error.html", status=413, message=message), 413
