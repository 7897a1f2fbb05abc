"""Organisations: create one, see mine, add and remove members."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from booking.errors import error_text
from booking.models import MemberRole
from booking.services import organisations as service
from booking.services.errors import InvalidRequest
from booking.web.forms import EmptyForm, field_error
from booking.web.organisations import bp
from booking.web.organisations.forms import AddMemberForm, OrganisationForm


@bp.get("")
@login_required
def index():
    memberships = service.my_organisations(current_user)
    return render_template("organisations/index.html", memberships=memberships)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = OrganisationForm()
    if form.validate_on_submit():
        command = service.OrganisationCommand(
            name=form.name.data,
            kind=form.kind.data,
            district=form.district.data or "",
            description=form.description.data or "",
            website=form.website.data or "",
        )
        try:
            organisation = service.create_organisation(current_user, command)
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            flash(_("The organisation %(name)s is created.", name=organisation.name), "success")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    status = 200 if not form.errors else 422
    return render_template("organisations/new.html", form=form), status


def _render_show(organisation, add_form, status=200):
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        add_form=add_form,
        button_form=EmptyForm(formdata=None),
        can_manage=service.can_manage_members(current_user, organisation),
        admin_role=MemberRole.ADMIN,
    ), status


@bp.get("/<int:organisation_id>")
@login_required
def show(organisation_id: int):
    organisation = service.get_organisation(current_user, organisation_id)
    return _render_show(organisation, AddMemberForm(formdata=None))


@bp.post("/<int:organisation_id>/members")
@login_required
def add_member(organisation_id: int):
    form = AddMemberForm()
    if form.validate_on_submit():
        role = MemberRole.ADMIN if form.admin.data else MemberRole.MEMBER
        try:
            membership = service.add_member(current_user, organisation_id, form.email.data, role)
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            flash(_("%(name)s is now a member.", name=membership.user.name), "success")
            return redirect(url_for("organisations.show", organisation_id=organisation_id))
    organisation = service.get_organisation(current_user, organisation_id)
    return _render_show(organisation, form, 422)


@bp.post("/<int:organisation_id>/members/<int:user_id>/remove")
@login_required
def remove_member(organisation_id: int, user_id: int):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("organisations.show", organisation_id=organisation_id))
    try:
        service.remove_member(current_user, organisation_id, user_id)
    except InvalidRequest as exc:
        flash(error_text(exc), "error")
        return redirect(url_for("organisations.show", organisation_id=organisation_id))
    if user_id == current_user.id:
        flash(_("You have left the organisation."), "success")
        return redirect(url_for("organisations.index"))
    flash(_("The member is removed."), "success")
    return redirect(url_for("organisations.show", organisation_id=organisation_id))


@bp.post("/<int:organisation_id>/members/<int:user_id>/role")
@login_required
def change_role(organisation_id: int, user_id: int):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("organisations.show", organisation_id=organisation_id))
    role = request.form.get("role", "")
    if role not in {r.value for r in MemberRole}:
        flash(_("Please choose a role from the list."), "error")
        return redirect(url_for("organisations.show", organisation_id=organisation_id))
    try:
        service.set_role(current_user, organisation_id, user_id, MemberRole(role))
    except InvalidRequest as exc:
        flash(error_text(exc), "error")
    else:
        flash(_("The role is changed."), "success")
    return redirect(url_for("organisations.show", organisation_id=organisation_id))
