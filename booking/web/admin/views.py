"""Administration: the sites a user may administer, a site's form and a room's form.

Each page calls one service (``booking.services.places``); a refusal it can show next to a
field comes back as a form error, anything else (403, 404) reaches ``booking/errors.py``.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from booking.services import places, site_photos
from booking.services.errors import InvalidRequest
from booking.web.admin import bp, exceptions
from booking.web.admin.forms import (
    SITE_KIND_LABELS,
    WEEKDAY_LABELS,
    OpeningHoursForm,
    RoomForm,
    SiteForm,
)
from booking.web.forms import field_error


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _room_flash(saved: places.RoomSaved, message: str) -> None:
    flash(message, "success")
    if saved.collisions:
        text = ngettext(
            "%(num)d upcoming approved date now collides with another one. "
            "Nothing was changed about it: please check the plan.",
            "%(num)d upcoming approved dates now collide with others. "
            "Nothing was changed about them: please check the plan.",
            saved.collisions,
        )
        link = url_for("web.manage_bookings", site=saved.room.site_id, collisions="y")
        flash(
            Markup('{} <a href="{}">{}</a>').format(text, link, _("Show the colliding dates")),
            "warning",
        )


@bp.get("")
@login_required
def index():
    sites = places.administrable_sites(current_user)
    return render_template(
        "admin/index.html",
        sites=sites,
        can_create_site=places.can_create_site(current_user),
        kind_labels=SITE_KIND_LABELS,
    )


@bp.route("/sites/new", methods=["GET", "POST"])
@login_required
def new_site():
    if not places.can_create_site(current_user):
        abort(403, description=_("Only administrators may create sites."))
    form = SiteForm()
    if form.validate_on_submit():
        try:
            site = places.create_site(current_user, form.command())
            _save_photo(form, site.id)
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            flash(_("The site %(name)s is created.", name=site.name), "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/site_form.html", form=form, site=None), _status(form)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@login_required
def edit_site(site_id: int):
    site = places.site_for_editing(current_user, site_id)
    form = SiteForm()
    if not form.is_submitted():
        form.fill(places.site_command(site))
    elif form.validate():
        keep = None if current_user.is_admin else site.active
        try:
            places.update_site(current_user, site.id, form.command(keep_active=keep))
            _save_photo(form, site.id)
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            flash(_("The site %(name)s is saved.", name=site.name), "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/site_form.html", form=form, site=site), _status(form)


def _save_photo(form: SiteForm, site_id: int) -> None:
    """A new photo replaces the old one; "remove the photo" without a new one removes it."""
    site_photos.change_photo(
        current_user,
        site_id,
        site_photos.folder(current_app.instance_path),
        data=form.photo_upload(),
        remove=bool(form.remove_photo.data),
    )


@bp.route("/sites/<int:site_id>/rooms/new", methods=["GET", "POST"])
@login_required
def new_room(site_id: int):
    site = places.site_for_editing(current_user, site_id)
    form = RoomForm()
    form.set_parents(places.rooms_of_site(site.id))
    if not form.is_submitted():
        form.fill(places.RoomCommand(name="", capacity=None))
    elif form.validate():
        try:
            saved = places.create_room(current_user, site.id, form.command())
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            _room_flash(saved, _("The room %(name)s is created.", name=saved.room.name))
            return redirect(url_for("admin.index"))
    return render_template("admin/room_form.html", form=form, site=site, room=None), _status(form)


@bp.route("/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@login_required
def edit_room(room_id: int):
    room = places.room_for_editing(current_user, room_id)
    form = RoomForm()
    form.set_parents(places.rooms_of_site(room.site_id), room.id)
    if not form.is_submitted():
        form.fill(places.room_command(room))
    elif form.validate():
        try:
            saved = places.update_room(current_user, room.id, form.command())
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            _room_flash(saved, _("The room %(name)s is saved.", name=saved.room.name))
            return redirect(url_for("admin.index"))
    return render_template("admin/room_form.html", form=form, site=room.site, room=room), _status(
        form
    )


def _opening_hours(site, room):
    """The week's form for a site (``room`` None) or a room's override; "school hours" fills it
    in for the user to check, "save" replaces the windows."""
    room_id = None if room is None else room.id
    form = OpeningHoursForm()
    if not form.is_submitted():
        form.fill(places.opening_windows(site.id, room_id))
    elif form.school.data:
        form.fill(places.SCHOOL_HOURS)
    elif form.validate():
        try:
            saved = places.set_opening_hours(current_user, site.id, room_id, form.windows())
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            flash(_("The opening hours are saved."), "success")
            if saved.outside:
                flash(
                    ngettext(
                        "%(num)d upcoming approved date now lies outside the opening hours. "
                        "Nothing was changed about it: please check the plan.",
                        "%(num)d upcoming approved dates now lie outside the opening hours. "
                        "Nothing was changed about them: please check the plan.",
                        saved.outside,
                    ),
                    "warning",
                )
            return redirect(url_for("admin.index"))
    return render_template(
        "admin/opening_hours.html",
        form=form,
        site=site,
        room=room,
        weekdays=WEEKDAY_LABELS,
        **exceptions.section(site, room),  # the dated exceptions below the week
    ), _status(form)


@bp.route("/sites/<int:site_id>/opening-hours", methods=["GET", "POST"])
@login_required
def site_opening_hours(site_id: int):
    return _opening_hours(places.site_for_editing(current_user, site_id), None)


@bp.route("/rooms/<int:room_id>/opening-hours", methods=["GET", "POST"])
@login_required
def room_opening_hours(room_id: int):
    room = places.room_for_editing(current_user, room_id)
    return _opening_hours(room.site, room)
