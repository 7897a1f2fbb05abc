"""The equipment list (administrators only): every feature with the number of rooms having it,
a form to add one, a page to change its labels and position, and buttons to deactivate and
reactivate it. Each page calls one service (``booking.services.features``), which checks that
the user is an administrator; a refusal comes back next to its field with status 422.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import AnyOf, InputRequired, Optional

from booking.services import features
from booking.services.errors import InvalidRequest
from booking.web.admin import bp
from booking.web.forms import field_error, reader_language


class FeatureForm(FlaskForm):
    label_de = StringField(
        _l("Name in German"), validators=[InputRequired(_l("Please enter a name."))]
    )
    label_en = StringField(
        _l("Name in English"), validators=[InputRequired(_l("Please enter a name."))]
    )
    position = IntegerField(
        _l("Position in the list"),
        validators=[Optional()],
        description=_l("Smaller numbers come first."),
    )

    def command(self, key: str = "") -> features.FeatureCommand:
        return features.FeatureCommand(
            label_de=self.label_de.data or "",
            label_en=self.label_en.data or "",
            key=key,
            position=self.position.data,
        )


class NewFeatureForm(FeatureForm):
    position = IntegerField(
        _l("Position in the list"),
        validators=[Optional()],
        description=_l("Smaller numbers come first. Empty: at the end."),
    )
    key = StringField(
        _l("Key"),
        description=_l(
            "The word the API, search links and the CSV import use: lowercase letters, digits "
            "and underscores. Empty: made from the English name. It cannot be changed later."
        ),
    )


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[InputRequired(), AnyOf(["0", "1"])])


def _render_list(form: NewFeatureForm, status: int = 200):
    listed = features.list_features(current_user)
    return render_template(
        "admin/features.html", listed=listed, form=form, button_form=ActiveForm()
    ), status


@bp.get("/features")
@login_required
def features_list():
    return _render_list(NewFeatureForm(formdata=None))


@bp.post("/features")
@login_required
def create_feature():
    features.require_admin(current_user)
    form = NewFeatureForm()
    if form.validate_on_submit():
        try:
            created = features.create_feature(current_user, form.command(form.key.data or ""))
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            flash(
                _(
                    "%(name)s is on the list (key %(key)s) and can be chosen for rooms.",
                    name=created.label_de if reader_language() == "de" else created.label_en,
                    key=created.key,
                ),
                "success",
            )
            return redirect(url_for("admin.features_list"))
    return _render_list(form, 422)


def _render_edit(feature, form: FeatureForm, status: int = 200):
    return render_template(
        "admin/feature_form.html", feature=feature, form=form, button_form=ActiveForm()
    ), status


@bp.route("/features/<key>", methods=["GET", "POST"])
@login_required
def edit_feature(key: str):
    feature = features.feature_for_editing(current_user, key)
    form = FeatureForm(obj=feature)  # what was sent wins over the stored values
    if form.is_submitted() and form.validate():
        try:
            saved, changed = features.update_feature(current_user, feature.key, form.command())
        except InvalidRequest as exc:
            field_error(form, exc)
        else:
            if changed:
                flash(_("The equipment %(key)s is saved.", key=saved.key), "success")
            return redirect(url_for("admin.features_list"))
    return _render_edit(feature, form, 422 if form.is_submitted() else 200)


@bp.post("/features/<key>/active")
@login_required
def feature_active(key: str):
    feature = features.feature_for_editing(current_user, key)
    form = ActiveForm()
    if not form.validate_on_submit():
        edit = FeatureForm(obj=feature, formdata=None)
        edit.form_errors.append(_("Please use one of the buttons on this page."))
        return _render_edit(feature, edit, 422)
    saved, _changed = features.set_active(current_user, feature.key, form.active.data == "1")
    if saved.active:
        flash(
            _("%(key)s can be chosen for rooms and searched for again.", key=saved.key), "success"
        )
    else:
        flash(
            _(
                "%(key)s is no longer offered. Rooms that have it keep it until it is unticked.",
                key=saved.key,
            ),
            "success",
        )
    return redirect(url_for("admin.features_list"))
