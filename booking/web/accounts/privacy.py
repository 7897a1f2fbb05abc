"""Privacy (#13): the privacy page, downloading one's data, and deleting one's account.

The service (``booking.services.privacy``) decides and writes; these views read the settings a
page shows (retention periods, the controller's contact), turn the export into a download, and
end the browser's login after the account is gone.
"""

from __future__ import annotations

import json

from flask import Response, current_app, flash, redirect, render_template, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired

from booking.services import privacy
from booking.services.errors import InvalidRequest
from booking.services.passwords import MAX_PASSWORD_LENGTH
from booking.web.accounts import bp, set_remember_cookie
from booking.web.forms import field_error
from booking.web.helpers import local_today

# The title an anonymised private booking shows instead of its own (see services/privacy.py).
ANONYMOUS_TITLE = _l("Anonymised booking")


def anonymous_title() -> str:
    """The placeholder in the platform's default language: it is stored, and read later by
    the site's managers, whatever language the person who deleted their account used."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "de")):
        return str(ANONYMOUS_TITLE)


def retention_policy() -> privacy.RetentionPolicy:
    return privacy.RetentionPolicy.from_config(current_app.config)


class DeleteAccountForm(FlaskForm):
    """The password once more, so that a forgotten open session cannot delete an account."""

    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(message=_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password", "maxlength": MAX_PASSWORD_LENGTH},
    )


@bp.get("/privacy")
def privacy_page():
    return render_template(
        "accounts/privacy.html",
        policy=retention_policy(),
        contact=current_app.config.get("PRIVACY_CONTACT", ""),
    )


@bp.get("/profile/export")
@login_required
def export_data():
    """The person's data as a JSON file to keep (Art. 15 and 20 GDPR)."""
    data = privacy.export_data(current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    filename = f"raumboerse-daten-{local_today().isoformat()}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # Personal data: no shared cache keeps a copy.
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.route("/profile/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    """What deleting the account does, and the form that does it (the password once more)."""
    form = DeleteAccountForm()
    preview = privacy.deletion_preview(current_user)
    if form.validate_on_submit():
        language = current_user.language  # the account is gone afterwards
        try:
            privacy.delete_account(
                current_user._get_current_object(),
                form.password.data,
                anonymous_title=anonymous_title(),
            )
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            session.clear()
            logout_user()
            set_remember_cookie(None)  # the browser forgets "stay logged in" too
            session["lang"] = language  # the goodbye in the language they used
            flash(
                _(
                    "Your account is deleted. Your dates still to come are cancelled;"
                    " your past bookings stay with the sites without your name."
                ),
                "success",
            )
            return redirect(url_for("web.home"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "accounts/delete_account.html",
        form=form,
        preview=preview,
        anonymous_title=anonymous_title(),
    ), status
