"""Organisations: create one, see mine, find one and ask to join, invite and remove members,
answer requests to join and invitations."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from booking.errors import error_text
from booking.input_guard import page_number
from booking.models import MemberRole
from booking.services import organisations as service
from booking.services.errors import (
    N_,
    Conflict,
    InvalidRequest,
    InvalidTransition,
    NotFound,
    NotPermitted,
)
from booking.web.forms import EmptyForm, field_error
from booking.web.organisations import bp
from booking.web.organisations.forms import (
    AddMemberForm,
    DecideJoinForm,
    JoinForm,
    OrganisationForm,
    OrganisationProfileForm,
    OrganisationSearchForm,
)


def _page() -> int:
    """The page of a list; a page number that is no number or too small is the first page."""
    return page_number()


@bp.get("")
@login_required
def index():
    """My organisations, and every organisation to find by name and ask to join."""
    form = OrganisationSearchForm(formdata=request.args)
    found = None
    if form.validate():
        try:
            found = service.list_organisations(current_user, q=form.q.data or "", page=_page())
        except InvalidRequest as exc:
            field_error(form, exc)
    memberships = service.my_organisations(current_user)
    return render_template(
        "organisations/index.html",
        memberships=memberships,
        form=form,
        found=found,
        args={"q": form.q.data} if form.q.data else {},
        button_form=EmptyForm(formdata=None),
    ), (200 if found is not None else 422)


def _command(form) -> service.OrganisationCommand:
    """The service's command from the new-organisation form or the profile form (which adds
    the contact address and the directory listing)."""
    email = getattr(form, "email", None)
    listed = getattr(form, "listed", None)
    return service.OrganisationCommand(
        name=form.name.data,
        kind=form.kind.data,
        district=form.district.data or "",
        description=form.description.data or "",
        website=form.website.data or "",
        email=(email.data or "") if email is not None else "",
        listed=bool(listed.data) if listed is not None else False,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = OrganisationForm()
    existing = None  # the organisation of the same name, to ask to join instead
    if form.validate_on_submit():
        try:
            organisation = service.create_organisation(current_user, _command(form))
        except InvalidRequest as exc:
            field_error(form, exc)
            existing = exc.params.get("organisation_id") if exc.code == "name_taken" else None
        else:
            flash(_("The organisation %(name)s is created.", name=organisation.name), "success")
            return redirect(url_for("organisations.show", organisation_id=organisation.id))
    status = 200 if not form.errors else 422
    return render_template("organisations/new.html", form=form, existing=existing), status


def _render_show(organisation, add_form, status=200, decide_form=None):
    join_requests = service.pending_requests(current_user, organisation)
    decide_forms = {
        r.id: decide_form
        if decide_form is not None and decide_form._prefix == f"jr{r.id}-"
        else DecideJoinForm(formdata=None, prefix=f"jr{r.id}")
        for r in join_requests
    }
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        add_form=add_form,
        button_form=EmptyForm(formdata=None),
        can_manage=service.can_manage_members(current_user, organisation),
        admin_role=MemberRole.ADMIN,
        join_requests=join_requests,
        decide_forms=decide_forms,
        invitations=service.pending_invitations(current_user, organisation),
    ), status


@bp.get("/<int:organisation_id>")
@login_required
def show(organisation_id: int):
    organisation = service.get_organisation(current_user, organisation_id)
    return _render_show(organisation, AddMemberForm(formdata=None))


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(organisation_id: int):
    """The organisation's profile and its entry in the public directory (its admins)."""
    organisation = service.organisation_for_editing(current_user, organisation_id)
    form = OrganisationProfileForm(obj=service.organisation_command(organisation))
    if form.validate_on_submit():
        try:
            service.update_organisation(current_user, organisation_id, _command(form))
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            flash(_("The profile is saved."), "success")
            return redirect(url_for("organisations.show", organisation_id=organisation_id))
    status = 200 if not form.errors else 422
    return render_template("organisations/edit.html", form=form, organisation=organisation), status


@bp.post("/<int:organisation_id>/members")
@login_required
def add_member(organisation_id: int):
    """Invite someone by address: the same answer for every address (see the service)."""
    form = AddMemberForm()
    if form.validate_on_submit():
        role = MemberRole.ADMIN if form.admin.data else MemberRole.MEMBER
        try:
            invitation = service.invite_member(current_user, organisation_id, form.email.data, role)
        except (InvalidRequest, Conflict) as exc:
            field_error(form, exc)
        else:
            flash(
                _(
                    "The invitation is on its way to %(address)s. The person becomes a member "
                    "when they accept it.",
                    address=invitation.email,
                ),
                "success",
            )
            return redirect(url_for("organisations.show", organisation_id=organisation_id))
    organisation = service.get_organisation(current_user, organisation_id)
    return _render_show(organisation, form, 422)


@bp.post("/<int:organisation_id>/invitations/<int:invitation_id>/withdraw")
@login_required
def withdraw_invitation(organisation_id: int, invitation_id: int):
    if not EmptyForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
    else:
        try:
            invitation = service.withdraw_invitation(current_user, organisation_id, invitation_id)
        except InvalidTransition as exc:
            flash(error_text(exc), "error")
        else:
            flash(
                _("The invitation to %(address)s is withdrawn.", address=invitation.email),
                "success",
            )
    return redirect(url_for("organisations.show", organisation_id=organisation_id), code=303)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """The mailed link: see who invites you to what; accept (logged in) or decline."""
    try:
        invitation = service.invitation_by_token(token)
    except NotFound as exc:
        return render_template(
            "organisations/invitation_invalid.html", message=error_text(exc)
        ), 410
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        if request.form.get("answer") == "decline":
            service.decline_invitation(current_user, token)
            flash(
                _(
                    "You declined the invitation to %(organisation)s.",
                    organisation=invitation.organisation.name,
                ),
                "success",
            )
            return redirect(url_for("web.home"), code=303)
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.path), code=303)
        accepted = service.accept_invitation(current_user, token)
        flash(_("Welcome to %(organisation)s!", organisation=accepted.organisation.name), "success")
        return redirect(
            url_for("organisations.show", organisation_id=accepted.organisation_id), code=303
        )
    return render_template(
        "organisations/invitation.html", invitation=invitation, form=form, next_path=request.path
    )


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


# Joining ------------------------------------------------------------------------------------


def _render_join(organisation_id: int, form, status=200):
    standing = service.join_standing(current_user, organisation_id)
    return render_template(
        "organisations/join.html",
        standing=standing,
        organisation=standing.organisation,
        form=form,
        button_form=EmptyForm(formdata=None),
    ), status


@bp.get("/<int:organisation_id>/join")
@login_required
def join(organisation_id: int):
    return _render_join(organisation_id, JoinForm(formdata=None))


@bp.post("/<int:organisation_id>/join")
@login_required
def ask_to_join(organisation_id: int):
    form = JoinForm()
    if form.validate_on_submit():
        try:
            request_ = service.ask_to_join(current_user, organisation_id, form.message.data or "")
        except InvalidRequest as exc:
            field_error(form, exc)
        except Conflict as exc:
            # Asked already or a member already: say so and show where things stand.
            flash(error_text(exc), "info")
            return redirect(url_for("organisations.join", organisation_id=organisation_id))
        else:
            flash(
                _(
                    "Your request to join %(name)s is sent. Its admins will answer by e-mail.",
                    name=request_.organisation.name,
                ),
                "success",
            )
            return redirect(url_for("organisations.join", organisation_id=organisation_id))
    return _render_join(organisation_id, form, 422)


@bp.post("/<int:organisation_id>/join/withdraw")
@login_required
def withdraw_join(organisation_id: int):
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("organisations.join", organisation_id=organisation_id))
    service.withdraw_join_request(current_user, organisation_id)
    flash(_("Your request to join is withdrawn."), "success")
    return redirect(url_for("organisations.index"))


@bp.post("/<int:organisation_id>/join-requests/<int:request_id>")
@login_required
def decide_join(organisation_id: int, request_id: int):
    form = DecideJoinForm(prefix=f"jr{request_id}")
    back = url_for("organisations.show", organisation_id=organisation_id)
    action = request.form.get("action", "")
    valid = form.validate_on_submit()
    if valid and action in ("accept", "decline"):
        try:
            decided = service.decide_join_request(
                current_user,
                organisation_id,
                request_id,
                accept=action == "accept",
                reason=form.reason.data or "",
            )
        except InvalidRequest as exc:
            field_error(form, exc)
        except InvalidTransition as exc:
            flash(error_text(exc), "error")
            return redirect(back)
        else:
            if action == "accept":
                message = _("%(name)s is now a member.", name=decided.user.name)
            else:
                message = _("The request of %(name)s is declined.", name=decided.user.name)
            flash(message, "success")
            return redirect(back)
    elif valid:
        form.form_errors.append(_("Please choose to accept or to decline."))
    organisation = service.get_organisation(current_user, organisation_id)
    if not service.can_manage_members(current_user, organisation):
        # Nobody but the organisation's admins learns who asked, not even from an error.
        raise NotPermitted(N_("Only the admins of this organisation can answer requests to join."))
    return _render_show(organisation, AddMemberForm(formdata=None), 422, decide_form=form)
