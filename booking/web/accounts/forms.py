"""Forms of the account pages: they check shape; the services check meaning."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import AnyOf, DataRequired, EqualTo, InputRequired, Length

from booking.models import RequestMails
from booking.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from booking.web.forms import single_line
from booking.web.i18n import LANGUAGE_NAMES

PASSWORD_MAX = MAX_PASSWORD_LENGTH


def _password_length():
    # Two validators, so that an overlong password is not told it is too short.
    return [
        Length(
            min=MIN_PASSWORD_LENGTH,
            message=_l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        ),
        Length(
            max=PASSWORD_MAX,
            message=_l("The password may have at most %(max)d characters.", max=PASSWORD_MAX),
        ),
    ]


def _required(message):
    return DataRequired(message=message)


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[_required(_l("Please enter your e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    name = StringField(
        _l("Your name"),
        validators=[_required(_l("Please enter your name.")), Length(max=200), single_line],
        render_kw={"autocomplete": "name"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[_required(_l("Please choose a password.")), *_password_length()],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            _required(_l("Please repeat the password.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    language = SelectField(
        _l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[_required(_l("Please enter your e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[_required(_l("Please enter your password.")), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Stay logged in on this device"))


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[_required(_l("Please enter your e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[_required(_l("Please choose a password.")), *_password_length()],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            _required(_l("Please repeat the password.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[_required(_l("Please enter your name.")), Length(max=200), single_line],
        render_kw={"autocomplete": "name"},
    )
    language = SelectField(
        _l("Language"), choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    )


_REQUEST_MAILS_MISSING = _l("Please choose how you want to hear about new requests.")


class RequestMailsForm(FlaskForm):
    """A manager's choice how they hear of new requests at their sites."""

    request_mails = RadioField(
        _l("E-mails about new booking requests"),
        choices=[
            SelectChoice(RequestMails.EACH.value, _l("An e-mail for each new request")),
            SelectChoice(RequestMails.DIGEST.value, _l("One daily summary of the new requests")),
            SelectChoice(
                RequestMails.NONE.value, _l("No e-mails (I look at the open requests myself)")
            ),
        ],
        # One clear message for a missing and an unknown choice (not WTForms' generic one).
        validate_choice=False,
        validators=[
            InputRequired(message=_REQUEST_MAILS_MISSING),
            AnyOf([m.value for m in RequestMails], message=_REQUEST_MAILS_MISSING),
        ],
        description=_l("For requests at the sites you manage."),
    )


class ChangePasswordForm(ResetPasswordForm):
    """The reset form's new password and confirmation, plus the current password."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[_required(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
