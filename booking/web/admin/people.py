"""Administration of people and organisations: accounts (search, deactivate, administrator
rights, a reset link), the managers of a site, and the directory of organisations.

Each page calls one service (``booking.services.people``), which checks that the user is an
administrator (a site's managers may only look at who manages their site). A refusal the page
can show comes back next to its field or above the form with status 422; a success is a flash
and a redirect.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from booking.errors import error_text
from booking.input_guard import page_number
from booking.models import MemberRole
from booking.services import people
from booking.services.errors import InvalidRequest
from booking.web.admin import bp
from booking.web.forms import EmptyForm, choices, field_error
from booking.web.helpers import fmt_date, fmt_time, local, status_text

USER_ACTIONS = ("deactivate", "reactivate", "grant_admin", "revoke_admin", "send_reset")
# How a person's history names the events about them (others show their stable action word).
ACTION_LABELS = {
    "user_deactivated": _l("Account deactivated"),
    "user_reactivated": _l("Account reactivated"),
    "admin_granted": _l("Made administrator"),
    "admin_revoked": _l("Administrator rights taken away"),
    "password_reset_sent": _l("Password-reset link sent"),
    "manager_assigned": _l("Made manager of a site"),
    "manager_removed": _l("No longer manager of a site"),
}


class UserSearchForm(FlaskForm):
    """A GET form: bookmarkable, no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name or e-mail address"),
        validators=[Optional(), Length(max=people.QUERY_MAX)],
        description=_l("A part of it is enough."),
    )
    show = SelectField(
        _l("Show"),
        choices=choices(
            [
                ("", _l("Everybody")),
                ("admins", _l("Administrators")),
                ("managers", _l("Site managers")),
                ("inactive", _l("Deactivated accounts")),
            ]
        ),
        default="",
    )


class OrganisationSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(
        _l("Name"),
        validators=[Optional(), Length(max=people.QUERY_MAX)],
        description=_l("A part of it is enough."),
    )
    trusted = SelectField(
        _l("Show"),
        choices=choices(
            [
                ("", _l("All organisations")),
                ("trusted", _l("Trusted organisations")),
                ("untrusted", _l("Organisations not trusted")),
            ]
        ),
        default="",
    )


class UserActionForm(FlaskForm):
    action = HiddenField(validators=[InputRequired(), AnyOf(USER_ACTIONS)])


class AddManagerForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[InputRequired(_l("Please enter the e-mail address of the new manager."))],
    )
    name = StringField(
        _l("Name (only for someone without an account)"),
        description=_l(
            "Someone without an account gets one and a mail with a link to choose a password."
        ),
    )


class TrustedForm(FlaskForm):
    trusted = HiddenField(validators=[InputRequired(), AnyOf(["0", "1"])])


def _date_helpers() -> dict:
    # The admin blueprint has no context processor of its own for these.
    return {"local": local, "fmt_date": fmt_date, "fmt_time": fmt_time, "status_text": status_text}


def _page() -> int:
    """The page of a list; a page number that is no number or too small is the first page."""
    return page_number()


def _args(form, *names: str) -> dict:
    """The filters of a list as its links keep them (without the page)."""
    return {n: v for n in names if (v := getattr(form, n).data)}


# People ------------------------------------------------------------------------------------


@bp.get("/users")
@login_required
def users():
    people.require_admin(current_user)
    form = UserSearchForm(formdata=request.args)
    found = None
    if form.validate():
        try:
            found = people.list_users(
                current_user, q=form.q.data or "", show=form.show.data, page=_page()
            )
        except InvalidRequest as exc:
            field_error(form, exc)
    return render_template(
        "admin/users.html", form=form, found=found, args=_args(form, "q", "show")
    ), (200 if found is not None else 422)


def _render_user(user_id: int, *, status: int = 200, problem: str | None = None):
    detail = people.user_detail(current_user, user_id)
    return render_template(
        "admin/user.html",
        detail=detail,
        user=detail.user,
        form=EmptyForm(),
        problem=problem,
        admin_role=MemberRole.ADMIN,
        action_labels=ACTION_LABELS,
        **_date_helpers(),
    ), status


@bp.get("/users/<int:user_id>")
@login_required
def user(user_id: int):
    return _render_user(user_id)


@bp.post("/users/<int:user_id>")
@login_required
def user_action(user_id: int):
    people.require_admin(current_user)
    form = UserActionForm()
    if not form.validate_on_submit():
        return _render_user(
            user_id, status=422, problem=_("Please use one of the buttons on this page.")
        )
    action = form.action.data
    try:
        if action == "deactivate":
            target, changed = people.deactivate_user(current_user, user_id)
            message = (
                _("%(name)s is deactivated and can no longer log in.", name=target.name)
                if changed
                else _("%(name)s was already deactivated.", name=target.name)
            )
        elif action == "reactivate":
            target, changed = people.reactivate_user(current_user, user_id)
            message = (
                _("%(name)s can log in again.", name=target.name)
                if changed
                else _("%(name)s was already active.", name=target.name)
            )
        elif action in ("grant_admin", "revoke_admin"):
            grant = action == "grant_admin"
            target, changed = people.set_admin(current_user, user_id, grant)
            if grant:
                message = (
                    _("%(name)s is now an administrator.", name=target.name)
                    if changed
                    else _("%(name)s already was an administrator.", name=target.name)
                )
            else:
                message = (
                    _("%(name)s is no longer an administrator.", name=target.name)
                    if changed
                    else _("%(name)s was not an administrator.", name=target.name)
                )
        else:
            target = people.send_password_reset(current_user, user_id)
            message = _(
                "A link to set a new password is on its way to %(email)s. It works for one hour.",
                email=target.email,
            )
    except InvalidRequest as exc:
        return _render_user(user_id, status=422, problem=error_text(exc))
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=user_id))


# Site managers -----------------------------------------------------------------------------


def _render_managers(site_id: int, form: AddManagerForm, status: int = 200):
    site, managers = people.site_managers(current_user, site_id)
    return render_template(
        "admin/site_managers.html",
        site=site,
        managers=managers,
        form=form,
        button_form=EmptyForm(),
        can_change=current_user.is_admin,
    ), status


@bp.get("/sites/<int:site_id>/managers")
@login_required
def site_managers(site_id: int):
    return _render_managers(site_id, AddManagerForm(formdata=None))


@bp.post("/sites/<int:site_id>/managers")
@login_required
def add_site_manager(site_id: int):
    people.require_admin(current_user)
    form = AddManagerForm()
    if form.validate_on_submit():
        try:
            user, invited = people.assign_manager(
                current_user, site_id, form.email.data, name=form.name.data or ""
            )
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            if invited:
                message = _(
                    "%(name)s now manages this site and has been sent a link to choose a password.",
                    name=user.name,
                )
            else:
                message = _("%(name)s now manages this site.", name=user.name)
            flash(message, "success")
            return redirect(url_for("admin.site_managers", site_id=site_id))
    return _render_managers(site_id, form, 422)


@bp.post("/sites/<int:site_id>/managers/<int:user_id>/remove")
@login_required
def remove_site_manager(site_id: int, user_id: int):
    people.require_admin(current_user)
    form = EmptyForm()
    if not form.validate_on_submit():
        form = AddManagerForm(formdata=None)
        form.form_errors.append(_("The form has expired. Please try again."))
        return _render_managers(site_id, form, 422)
    user = people.remove_manager(current_user, site_id, user_id)
    flash(_("%(name)s no longer manages this site.", name=user.name), "success")
    return redirect(url_for("admin.site_managers", site_id=site_id))


# Organisations -----------------------------------------------------------------------------


@bp.get("/organisations")
@login_required
def organisations():
    people.require_admin(current_user)
    form = OrganisationSearchForm(formdata=request.args)
    found = None
    if form.validate():
        try:
            found = people.list_organisations(
                current_user,
                q=form.q.data or "",
                trusted=form.trusted.data,
                page=_page(),
            )
        except InvalidRequest as exc:
            field_error(form, exc)
    return render_template(
        "admin/organisations.html", form=form, found=found, args=_args(form, "q", "trusted")
    ), (200 if found is not None else 422)


def _render_organisation(organisation_id: int, *, status: int = 200, problem: str | None = None):
    detail = people.organisation_detail(current_user, organisation_id)
    return render_template(
        "admin/organisation.html",
        detail=detail,
        organisation=detail.organisation,
        form=EmptyForm(),
        problem=problem,
        admin_role=MemberRole.ADMIN,
        **_date_helpers(),
    ), status


@bp.get("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id: int):
    return _render_organisation(organisation_id)


@bp.post("/organisations/<int:organisation_id>")
@login_required
def organisation_trusted(organisation_id: int):
    people.require_admin(current_user)
    form = TrustedForm()
    if not form.validate_on_submit():
        return _render_organisation(
            organisation_id, status=422, problem=_("Please use one of the buttons on this page.")
        )
    trusted = form.trusted.data == "1"
    changed_org, changed = people.set_trusted(current_user, organisation_id, trusted)
    name = changed_org.name
    if trusted:
        message = (
            _(
                "%(name)s is trusted now: rooms that approve trusted organisations at once "
                "will approve its new requests.",
                name=name,
            )
            if changed
            else _("%(name)s already was trusted.", name=name)
        )
    else:
        message = (
            _("%(name)s is no longer trusted: its new requests wait for a manager.", name=name)
            if changed
            else _("%(name)s was not trusted.", name=name)
        )
    flash(message, "success")
    return redirect(url_for("admin.organisation", organisation_id=organisation_id))
