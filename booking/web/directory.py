"""The public directory of organisations (``/directory``, opt-in) and the plain-language guide
(``/help``): the pages that tell newcomers who does what and how things work here."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from booking.errors import error_text
from booking.input_guard import page_number
from booking.models import OrganisationKind
from booking.services import directory as service
from booking.services.errors import InvalidRequest
from booking.web import bp
from booking.web.i18n import organisation_kind_label


@bp.get("/directory")
def directory():
    """Listed organisations by name, filtered by words, district and kind (a GET form)."""
    q = request.args.get("q", "")
    district = request.args.get("district", "")
    kind = request.args.get("kind", "")
    districts = service.districts()
    errors: dict[str, str] = {}
    if district and district not in districts:
        errors["district"] = _("There is no such district.")
    page = None
    if not errors:
        try:
            page = service.directory(
                q=q, district=district or None, kind=kind or None, page=page_number()
            )
        except InvalidRequest as exc:
            errors[exc.field or "q"] = error_text(exc)
    return render_template(
        "web/directory.html",
        page=page,
        q=q,
        district=district,
        kind=kind,
        districts=districts,
        kinds=[(k.value, organisation_kind_label(k)) for k in OrganisationKind],
        errors=errors,
        args={k: v for k, v in request.args.items() if k != "page" and v},
    ), (422 if errors else 200)


@bp.get("/directory/<int:organisation_id>")
def directory_entry(organisation_id: int):
    """One listed organisation: what it says about itself and its upcoming open offers."""
    return render_template("web/directory_entry.html", listing=service.listing(organisation_id))


@bp.get("/help")
def guide():
    """ "So funktioniert's": how to find, request and use a room, in plain language."""
    return render_template("web/help.html")
