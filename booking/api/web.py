"""Profile-page routes for API tokens: HTML forms, session login, CSRF-protected."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from booking.api import tokens
from booking.errors import error_text
from booking.services.errors import InvalidRequest, NotFound

tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/profile/api-tokens")


@tokens_bp.app_template_global("api_tokens_of")
def api_tokens_of(user) -> list:
    """The active tokens of ``user``, for templates/api/_profile_tokens.html."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return tokens.user_tokens(user)


def _profile_url() -> str:
    try:
        return url_for("accounts.profile", _anchor="api-tokens")
    except BuildError:  # the profile page belongs to another blueprint; stand alone without it
        return url_for("api_tokens.index")


@tokens_bp.post("")
@login_required
def create():
    name = request.form.get("name", "")
    try:
        token, plain = tokens.create_token(current_user, name)
    except InvalidRequest as exc:
        flash(error_text(exc), "error")
        return redirect(_profile_url())
    response = render_template(
        "api/token_created.html", token=token, plain=plain, profile_url=_profile_url()
    )
    # Shown once: keep it out of caches and history snapshots.
    return response, 201, {"Cache-Control": "no-store"}


@tokens_bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    try:
        token = tokens.revoke_token(current_user, token_id)
    except NotFound:
        flash(_("There is no such token."), "error")
        return redirect(_profile_url())
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(_profile_url())


@tokens_bp.get("")
@login_required
def index():
    # Reached only when there is no profile page: list the tokens on a page of their own.
    return render_template("api/tokens.html")
