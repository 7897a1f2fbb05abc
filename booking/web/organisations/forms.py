"""Forms of the organisation pages: they check shape; the services check meaning."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, Optional

from booking.models import OrganisationKind
from booking.services.organisations import MESSAGE_MAX, QUERY_MAX, REASON_MAX
from booking.web.forms import clean_text, single_line
from booking.web.i18n import organisation_kind_label


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Please enter the name of the organisation.")),
            Length(max=200),
            single_line,
        ],
    )
    kind = SelectField(_l("Kind"))
    district = StringField(_l("District"), validators=[Optional(), Length(max=100), single_line])
    description = TextAreaField(
        _l("What you do"), validators=[Optional(), Length(max=5000), clean_text]
    )
    website = URLField(
        _l("Website"),
        validators=[Optional(), Length(max=300), single_line],
        render_kw={"placeholder": "https://"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            SelectChoice(k.value, organisation_kind_label(k)) for k in OrganisationKind
        ]


class OrganisationProfileForm(OrganisationForm):
    """The profile an organisation's admins keep, and whether the public directory lists it."""

    email = EmailField(
        _l("Public contact e-mail address"),
        validators=[Optional(), Length(max=254), single_line],
        description=_l("Shown in the public directory. Leave it empty to show none."),
    )
    listed = BooleanField(
        _l("List the organisation in the public directory “Who does what”"),
        description=_l(
            "Anyone can then read its name, kind, district, description, website and contact"
            " address, and the dates of its public bookings. Members and private bookings are"
            " never shown."
        ),
    )


class AddMemberForm(FlaskForm):
    email = EmailField(
        _l("E-mail address of the person"),
        validators=[DataRequired(message=_l("Please enter an e-mail address.")), Length(max=254)],
    )
    admin = BooleanField(_l("May manage members too (admin)"))


class OrganisationSearchForm(FlaskForm):
    """A GET form: bookmarkable, no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name of the organisation"),
        validators=[Optional(), Length(max=QUERY_MAX), single_line],
        description=_l("A part of it is enough."),
    )


class JoinForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the admins (optional)"),
        validators=[Optional(), Length(max=MESSAGE_MAX)],
        description=_l("For example who you are and what you do in the organisation."),
    )


class DecideJoinForm(FlaskForm):
    """One open request to join; the button pressed (``action``) says accept or decline."""

    reason = TextAreaField(
        _l("Reason if you decline (optional)"),
        validators=[Optional(), Length(max=REASON_MAX)],
        description=_l("The person reads it in the e-mail that tells them your answer."),
    )
