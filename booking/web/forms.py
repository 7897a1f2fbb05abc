"""WTForms for the public pages, and what the forms of every page share. Forms check shape;
services check meaning."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from booking import domain
from booking.errors import error_text
from booking.input_guard import FIRST_YEAR, LAST_YEAR
from booking.languages import SPOKEN_LANGUAGES
from booking.models import OfferAudience, OfferCategory
from booking.services import catalogue
from booking.services.bookings import (
    ATTENDEES_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
    BookingCommand,
)
from booking.services.errors import InvalidRequest
from booking.services.text import (
    MULTI_LINE_MESSAGE,
    SINGLE_LINE_MESSAGE,
    is_clean_text,
    is_single_line,
)
from booking.web.i18n import offer_audience_label, offer_category_label, spoken_language_name

WEEKDAYS = (
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
)

POSITIONS = (
    ("", _l("as on the first date")),
    ("1", _l("first")),
    ("2", _l("second")),
    ("3", _l("third")),
    ("4", _l("fourth")),
    ("5", _l("fifth")),
    ("-1", _l("last")),
)

REPEAT_NONE = "none"
REPEAT_WEEKLY = "weekly"
REPEAT_BIWEEKLY = "biweekly"
REPEAT_MONTHLY = "monthly"

# How long a weekly search runs (SearchForm.weekly_end).
WEEKLY_FOR_WEEKS = "weeks"
WEEKLY_UNTIL_DATE = "date"
WEEKLY_UNTIL_SUMMER = "summer"
WEEKLY_UNTIL_HALF_YEAR = "half_year"


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (rendered inside a fieldset by the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


def reader_language() -> str:
    """Which of a feature's labels the reader gets: "de" (German) or "en"."""
    locale = get_locale()
    return "de" if locale is None or locale.language == "de" else "en"


def feature_choices(keep=()) -> list[SelectChoice]:
    """The equipment one may choose (the list administrators keep), labelled in the reader's
    language; ``keep``: keys a room has already, offered even when no longer active."""
    language = reader_language()
    return [
        SelectChoice(
            f.key,
            f.label(language)
            if f.active
            else _("%(name)s (no longer offered)", name=f.label(language)),
        )
        for f in catalogue.current().offered_features(keep)
    ]


def single_line(form, field) -> None:
    """Validator of one-line text fields (titles, names, phone numbers): no line break, tab or
    other control character, since the text ends up in mail subjects and iCal lines."""
    if isinstance(field.data, str) and not is_single_line(field.data):
        raise ValidationError(_(SINGLE_LINE_MESSAGE))


def clean_text(form, field) -> None:
    """Validator of texts of several lines: line breaks and tabs, but no other control
    character."""
    if isinstance(field.data, str) and not is_clean_text(field.data):
        raise ValidationError(_(MULTI_LINE_MESSAGE))


def year_in_range(form, field) -> None:
    """Validator of date fields: a year bookings can lie in."""
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(
            _(
                "Please give a date between %(first)d and %(last)d.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
        )


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons that POST (log out, remove a member)."""


def field_error(form: FlaskForm, exc: InvalidRequest) -> None:
    """Show a service's refusal next to its field (translated), else above the form."""
    message = error_text(exc)
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


class SearchForm(FlaskForm):
    """The room search on the home page: a GET form, so no CSRF token and bookmarkable."""

    class Meta:
        csrf = False

    mode = RadioField(
        _l("When"),
        choices=choices([("date", _l("On a date")), ("weekly", _l("Every week on a weekday"))]),
        default="date",
    )
    date = DateField(_l("Date"), validators=[Optional(), year_in_range])
    weekday = SelectField(_l("Weekday"), choices=choices(WEEKDAYS), default="0")
    weekly_end = RadioField(
        _l("Until when"),
        choices=choices(
            [
                (WEEKLY_FOR_WEEKS, _l("for a number of weeks")),
                (WEEKLY_UNTIL_DATE, _l("until a date")),
                (WEEKLY_UNTIL_SUMMER, _l("until the summer holidays")),
                (WEEKLY_UNTIL_HALF_YEAR, _l("until the end of this school half-year")),
            ]
        ),
        default=WEEKLY_FOR_WEEKS,
        description=_l("The holidays are those of the NRW school holiday calendar."),
    )
    weeks = IntegerField(
        _l("Number of weeks"), validators=[Optional(), NumberRange(1, 52)], default=8
    )
    until = DateField(_l("Last date"), validators=[Optional(), year_in_range])
    # On unless the form was sent with it unticked (see ``web.home``): as on the booking form.
    skip_closures = BooleanField(
        _l("Skip school holidays and closures"),
        default=True,
        description=_l("Weeks in which a room is closed are left out, as when booking."),
    )
    start = TimeField(_l("From"), validators=[Optional()])
    end = TimeField(_l("Until"), validators=[Optional()])
    people = IntegerField(
        _l("Number of people"), validators=[Optional(), NumberRange(1, ATTENDEES_MAX)]
    )
    features = MultiCheckboxField(_l("Equipment"), choices=[])
    district = SelectField(_l("District"), choices=[], default="")
    step_free = BooleanField(_l("Step-free access"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.features.choices = feature_choices()  # only active features are search filters

    def validate_shape(self) -> bool:
        """Run the validators plus the cross-field checks a search needs."""
        ok = self.validate()
        if self.mode.data == "date" and self.date.data is None and not self.date.errors:
            self.date.errors.append(_l("Please choose a date."))
            ok = False
        weekly_until_date = self.mode.data == "weekly" and self.weekly_end.data == WEEKLY_UNTIL_DATE
        if weekly_until_date and self.until.data is None and not self.until.errors:
            self.until.errors.append(_l("Please give the last date."))
            ok = False
        for item in (self.start, self.end):
            if item.data is None and not item.errors:
                item.errors.append(_l("Please give a time."))
                ok = False
        if self.start.data and self.end.data and self.end.data <= self.start.data:
            self.end.errors.append(_l("The end must be after the start."))
            ok = False
        return ok


class BookingForm(FlaskForm):
    date = DateField(
        _l("Date (first date of a series)"), validators=[InputRequired(), year_in_range]
    )
    start = TimeField(_l("Start"), validators=[InputRequired()])
    end = TimeField(_l("End"), validators=[InputRequired()])
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=TITLE_MAX), single_line],
        description=_l("For example: choir rehearsal, homework help."),
    )
    description = TextAreaField(
        _l("What is it for?"), validators=[Optional(), Length(max=DESCRIPTION_MAX), clean_text]
    )
    attendees = IntegerField(
        _l("Expected number of people"), validators=[Optional(), NumberRange(1, ATTENDEES_MAX)]
    )
    organisation = SelectField(_l("Booking for"), choices=[], default="")
    is_public = BooleanField(
        _l("Public: show title and organisation in the calendar and in the open offers")
    )
    # What a public booking tells people looking for open offers (ignored for private ones).
    offer_category = SelectField(_l("What kind of offer"), choices=[], default="")
    offer_audience = SelectField(_l("For whom"), choices=[], default="")
    offer_languages = MultiCheckboxField(
        _l("Languages spoken"), choices=[], validate_choice=True, default=[]
    )
    free_of_charge = BooleanField(_l("Free of charge"))
    drop_in = BooleanField(_l("Drop in: no sign-up needed"))
    repeat = RadioField(
        _l("Repetition"),
        choices=choices(
            [
                (REPEAT_NONE, _l("Only once")),
                (REPEAT_WEEKLY, _l("Every week")),
                (REPEAT_BIWEEKLY, _l("Every 2 weeks")),
                (REPEAT_MONTHLY, _l("Every month on the same weekday (e.g. the second Tuesday)")),
            ]
        ),
        default=REPEAT_NONE,
    )
    weekdays = MultiCheckboxField(
        _l("On these weekdays"),
        choices=choices(WEEKDAYS),
        description=_l("None ticked: the weekday of the first date."),
    )
    position = SelectField(_l("Which weekday of the month"), choices=choices(POSITIONS), default="")
    limit = RadioField(
        _l("Ends"),
        choices=choices([("until", _l("on a date")), ("count", _l("after a number of dates"))]),
        default="until",
    )
    until = DateField(_l("Last possible date"), validators=[Optional(), year_in_range])
    count = IntegerField(_l("Number of dates"), validators=[Optional(), NumberRange(1, 500)])
    skip_closures = BooleanField(_l("Skip school holidays and closures"), default=True)
    house_rules_accepted = BooleanField(_l("I have read the house rules and will keep them"))
    book_free_dates_only = BooleanField(
        _l("Yes, book only the free dates and leave out the marked ones")
    )
    # Fingerprint of the details last previewed: "Book" only writes what the user has seen.
    previewed = HiddenField()
    # The form's one-time submission key: made when the form is first shown and kept through
    # every preview, so a second "Book" with it (a double tap, Back and "Book" again) answers
    # with the booking the first one made (services.requests.submit_booking).
    submission = HiddenField()
    preview = SubmitField(_l("Show the dates"))
    book = SubmitField(_l("Book"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        none = SelectChoice("", _l("— please choose —"))
        self.offer_category.choices = [none] + [
            SelectChoice(c.value, offer_category_label(c)) for c in OfferCategory
        ]
        self.offer_audience.choices = [none] + [
            SelectChoice(a.value, offer_audience_label(a)) for a in OfferAudience
        ]
        self.offer_languages.choices = [
            SelectChoice(code, spoken_language_name(code)) for code in SPOKEN_LANGUAGES
        ]

    def validate_shape(self) -> bool:
        ok = self.validate()
        if self.repeat.data not in (None, "", REPEAT_NONE):
            if self.limit.data == "until" and self.until.data is None and not self.until.errors:
                self.until.errors.append(_l("Please give the last date of the series."))
                ok = False
            if self.limit.data == "count" and self.count.data is None and not self.count.errors:
                self.count.errors.append(_l("Please give the number of dates."))
                ok = False
        return ok

    def submission_token(self) -> str:
        """The form's submission key; a fresh one if it came without one (or a mangled one)."""
        if not SUBMISSION_TOKEN.fullmatch(self.submission.data or ""):
            self.submission.data = new_submission_token()
        return self.submission.data

    def fingerprint(self) -> str:
        """A short digest of everything that decides which dates are booked and how."""
        parts = [
            self.date.data,
            self.start.data,
            self.end.data,
            self.title.data,
            self.attendees.data,
            self.organisation.data,
            self.repeat.data,
            sorted(self.weekdays.data or []),
            self.position.data,
            self.limit.data,
            self.until.data,
            self.count.data,
            self.skip_closures.data,
        ]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


SUBMISSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")


def new_submission_token() -> str:
    """A new booking form's one-time submission key (URL-safe, 32 characters)."""
    return secrets.token_urlsafe(24)


def position_of(day) -> str:
    """Which weekday of its month a date is: "1" for the first Tuesday, ..., "5"."""
    return str((day.day - 1) // 7 + 1)


def recurrence_from_form(form: BookingForm) -> domain.Recurrence | None:
    repeat = form.repeat.data or REPEAT_NONE
    if repeat == REPEAT_NONE:
        return None
    day = form.date.data
    until = form.until.data if form.limit.data == "until" else None
    count = form.count.data if form.limit.data == "count" else None
    if repeat == REPEAT_MONTHLY:
        return domain.Recurrence(
            freq=domain.Frequency.MONTHLY,
            byweekday=(day.weekday(),),
            bysetpos=int(form.position.data or position_of(day)),
            until=until,
            count=count,
            skip_closures=bool(form.skip_closures.data),
        )
    weekdays = tuple(int(d) for d in form.weekdays.data or ()) or (day.weekday(),)
    return domain.Recurrence(
        freq=domain.Frequency.WEEKLY,
        interval=2 if repeat == REPEAT_BIWEEKLY else 1,
        byweekday=weekdays,
        until=until,
        count=count,
        skip_closures=bool(form.skip_closures.data),
    )


def command_from_form(
    form: BookingForm, room_id: int, submission_key: str | None = None
) -> BookingCommand:
    """The one place where the booking form becomes the service's command (``submission_key``:
    the service's key for this form's submission, when it books)."""
    day = form.date.data
    return BookingCommand(
        room_id=room_id,
        title=form.title.data or "",
        start=datetime.combine(day, form.start.data),
        end=datetime.combine(day, form.end.data),
        organisation_id=int(form.organisation.data) if form.organisation.data else None,
        description=form.description.data or "",
        attendees=form.attendees.data,
        is_public=bool(form.is_public.data),
        offer_category=form.offer_category.data or None,
        offer_audience=form.offer_audience.data or None,
        offer_languages=tuple(form.offer_languages.data or ()),
        free_of_charge=bool(form.free_of_charge.data),
        drop_in=bool(form.drop_in.data),
        recurrence=recurrence_from_form(form),
        book_free_dates_only=bool(form.book_free_dates_only.data),
        house_rules_accepted=bool(form.house_rules_accepted.data),
        submission_key=submission_key,
    )


# Service field names (InvalidRequest.field) -> form fields.
SERVICE_FIELDS = {
    "title": "title",
    "description": "description",
    "attendees": "attendees",
    "start": "start",
    "end": "end",
    "organisation_id": "organisation",
    "offer_category": "offer_category",
    "offer_audience": "offer_audience",
    "offer_languages": "offer_languages",
    "house_rules_accepted": "house_rules_accepted",
    "recurrence": "repeat",
    "recurrence.freq": "repeat",
    "recurrence.interval": "repeat",
    "recurrence.byweekday": "weekdays",
    "recurrence.bysetpos": "position",
    "recurrence.bymonthday": "position",
    "recurrence.until": "until",
    "recurrence.count": "count",
    "recurrence.start": "date",
    "recurrence.end": "end",
}
