"""The API tokens of the profile page: create, revoke, list. HTML forms with a session login and
CSRF protection, unlike the tokens-only API they give access to (``booking.api.tokens`` is the
service behind them)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from booking.api import tokens
from booking.errors import error_text
from booking.services.errors import InvalidRequest, NotFound
from booking.web.accounts import bp


@bp.app_template_global("api_tokens_of")
def api_tokens_of(user) -> list:
    """The active tokens of ``user``, for templates/accounts/_api_tokens.html."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return tokens.user_tokens(user)


def _profile_url() -> str:
    return url_for("accounts.profile", _anchor="api-tokens")


@bp.post("/profile/api-tokens")
@login_required
def create_api_token():
    name = request.form.get("name", "")
    try:
        token, plain = tokens.create_token(current_user, name)
    except InvalidRequest as exc:
        flash(error_text(exc), "error")
        return redirect(_profile_url())
    response = render_template(
        "accounts/api_token_created.html", token=token, plain=plain, profile_url=_profile_url()
    )
    # Shown once: keep it out of caches and history snapshots.
    return response, 201, {"Cache-Control": "no-store"}


@bp.post("/profile/api-tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    try:
        token = tokens.revoke_token(current_user, token_id)
    except NotFound:
        flash(_("There is no such token."), "error")
        return redirect(_profile_url())
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(_profile_url())


@bp.get("/profile/api-tokens")
@login_required
def api_tokens():
    # The profile page lists the tokens too; this page shows them on their own.
    return render_template("accounts/api_tokens.html")
