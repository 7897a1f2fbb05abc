"""Forms of the administration pages: they check shape and build the service's command; the
service checks meaning (a known time zone, a free name, a part without cycles)."""

from __future__ import annotations

from datetime import time as dt_time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from booking.models import ApprovalPolicy, SiteKind
from booking.services import places, room_import, site_photos
from booking.web.forms import (
    MultiCheckboxField,
    choices,
    clean_text,
    feature_choices,
    single_line,
)

SITE_KIND_LABELS = {
    SiteKind.SCHOOL: _l("School"),
    SiteKind.LIBRARY: _l("Library"),
    SiteKind.DISTRICT_HOUSE: _l("District house"),
    SiteKind.YOUTH_CENTRE: _l("Youth centre"),
    SiteKind.CHURCH_HALL: _l("Church hall"),
    SiteKind.SENIOR_CENTRE: _l("Senior centre"),
    SiteKind.ADULT_EDUCATION: _l("Adult education centre"),
    SiteKind.SQUARE: _l("Square"),
    SiteKind.OPEN_AIR_STAGE: _l("Open-air stage"),
    SiteKind.SCHOOLYARD: _l("Schoolyard"),
    SiteKind.PARK: _l("Park"),
    SiteKind.OTHER: _l("Other"),
}

APPROVAL_LABELS = {
    ApprovalPolicy.MANUAL: _l("A manager approves each request"),
    ApprovalPolicy.AUTOMATIC: _l("Approved automatically when free"),
    ApprovalPolicy.TRUSTED: _l("Automatic for trusted organisations, else by a manager"),
}

NO_PARENT = ""


class SiteForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[InputRequired(_l("Please enter a name.")), single_line]
    )
    kind = SelectField(_l("Kind"), choices=choices(SITE_KIND_LABELS.items()))
    district = StringField(
        _l("District"), validators=[InputRequired(_l("Please name the district.")), single_line]
    )
    street = StringField(_l("Street and number"), validators=[single_line])
    postcode = StringField(_l("Postcode"), validators=[single_line])
    city = StringField(_l("City"), default="Iserlohn", validators=[single_line])
    timezone = StringField(
        _l("Time zone"),
        default="Europe/Berlin",
        description=_l("An IANA time zone, for example Europe/Berlin."),
        validators=[single_line],
    )
    contact_name = StringField(_l("Contact person"), validators=[single_line])
    contact_phone = StringField(_l("Contact phone"), validators=[single_line])
    contact_email = EmailField(_l("Contact e-mail"), validators=[single_line])
    description = TextAreaField(_l("Public description"), validators=[clean_text])
    active = BooleanField(
        _l("Active (rooms can be found and booked)"),
        default=True,
        description=_l("Only administrators may change this."),
    )
    photo = FileField(
        _l("Photo"),
        validators=[
            FileAllowed(site_photos.EXTENSIONS, _l("Please choose a JPEG, PNG or WebP image.")),
            FileSize(
                site_photos.PHOTO_MAX_BYTES,
                message=_l(
                    "The photo is too large: at most %(max)d MB, please.",
                    max=site_photos.PHOTO_MAX_MB,
                ),
            ),
        ],
        description=_l(
            "Optional: a JPEG, PNG or WebP image of at most %(max)d MB, shown on the site's page.",
            max=site_photos.PHOTO_MAX_MB,
        ),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    remove_photo = BooleanField(_l("Remove the photo"))

    def fill(self, cmd: places.SiteCommand) -> None:
        for name, value in vars(cmd).items():
            getattr(self, name).data = value

    def photo_upload(self) -> bytes | None:
        """The uploaded photo's bytes (None: no file chosen)."""
        upload = self.photo.data
        return upload.read() if upload else None

    def command(self, *, keep_active: bool | None = None) -> places.SiteCommand:
        """``keep_active``: the site's current state, for editors who may not change it."""
        return places.SiteCommand(
            name=self.name.data or "",
            kind=self.kind.data or "",
            district=self.district.data or "",
            street=self.street.data or "",
            postcode=self.postcode.data or "",
            city=self.city.data or "",
            timezone=self.timezone.data or "",
            contact_name=self.contact_name.data or "",
            contact_phone=self.contact_phone.data or "",
            contact_email=self.contact_email.data or "",
            description=self.description.data or "",
            active=bool(self.active.data) if keep_active is None else keep_active,
        )


def _minutes(label, hint=None, *, required: bool = True):
    validators = [InputRequired(_l("Please enter a number."))] if required else [Optional()]
    return IntegerField(label, validators=validators, description=hint)


class RoomForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[InputRequired(_l("Please enter a name.")), single_line]
    )
    parent_id = SelectField(
        _l("Part of"),
        description=_l("Make this room a part of a divisible room: booking the whole blocks it."),
    )
    capacity = IntegerField(
        _l("Capacity (people)"), validators=[InputRequired(_l("Please enter a number."))]
    )
    area_m2 = IntegerField(_l("Area (m²)"), validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[clean_text])
    house_rules = TextAreaField(
        _l("House rules"),
        description=_l("Requesters must accept them when they book."),
        validators=[clean_text],
    )
    features = MultiCheckboxField(_l("Equipment"), choices=[])
    step_free = BooleanField(_l("Step-free access"))
    accessible_toilet = BooleanField(_l("Accessible toilet"))
    hearing_loop = BooleanField(_l("Hearing loop"))
    approval_policy = SelectField(_l("Approval"), choices=choices(APPROVAL_LABELS.items()))
    min_lead_minutes = _minutes(
        _l("Notice needed (minutes)"), _l("How long before the start a request must come.")
    )
    max_advance_days = _minutes(_l("Bookable ahead (days)"), _l("Empty: no limit."), required=False)
    min_duration_minutes = _minutes(
        _l("Shortest booking (minutes)"), _l("Empty: no limit."), required=False
    )
    max_duration_minutes = _minutes(
        _l("Longest booking (minutes)"), _l("Empty: no limit."), required=False
    )
    buffer_before_minutes = _minutes(
        _l("Set-up time before (minutes)"), _l("Kept free before each booking.")
    )
    buffer_after_minutes = _minutes(
        _l("Cleaning time after (minutes)"), _l("Kept free after each booking.")
    )
    active = BooleanField(_l("Active (can be found and booked)"), default=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The active features, and an inactive one that was sent: the service keeps it only
        # for a room that has it already.
        self.features.choices = feature_choices(keep=self.features.data or ())

    def set_parents(self, rooms, room_id: int | None = None) -> None:
        """The rooms of the site this one may become a part of (the service refuses cycles)."""
        self.parent_id.choices = [SelectChoice(NO_PARENT, _l("— not a part —"))] + [
            SelectChoice(str(r.id), r.name) for r in rooms if r.id != room_id
        ]

    def fill(self, cmd: places.RoomCommand) -> None:
        for name, value in vars(cmd).items():
            if name == "parent_id":
                value = NO_PARENT if value is None else str(value)
            elif name == "features":
                value = list(value)
                self.features.choices = feature_choices(keep=value)  # the room's, even inactive
            elif name == "approval_policy":
                value = str(value)
            getattr(self, name).data = value

    def command(self) -> places.RoomCommand:
        parent = self.parent_id.data
        return places.RoomCommand(
            name=self.name.data or "",
            capacity=self.capacity.data,
            parent_id=int(parent) if parent and parent.isdigit() else None,
            area_m2=self.area_m2.data,
            description=self.description.data or "",
            house_rules=self.house_rules.data or "",
            step_free=bool(self.step_free.data),
            accessible_toilet=bool(self.accessible_toilet.data),
            hearing_loop=bool(self.hearing_loop.data),
            approval_policy=self.approval_policy.data or "",
            min_lead_minutes=self.min_lead_minutes.data,
            max_advance_days=self.max_advance_days.data,
            min_duration_minutes=self.min_duration_minutes.data,
            max_duration_minutes=self.max_duration_minutes.data,
            buffer_before_minutes=self.buffer_before_minutes.data,
            buffer_after_minutes=self.buffer_after_minutes.data,
            features=tuple(self.features.data or ()),
            active=bool(self.active.data),
        )


WEEKDAY_LABELS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
WINDOWS_PER_DAY = 2
# Each day's fields: (from, until) per window; the first "from" is named ``day<n>`` so that the
# service's errors on ``day<n>`` land next to that day.
_NAMES = ("day{d}", "day{d}_until", "day{d}_from2", "day{d}_until2")


def _time(label):
    return TimeField(label, validators=[Optional()])


class OpeningHoursForm(FlaskForm):
    """One row per weekday with up to two windows; an empty row is closed all day.

    "until 00:00" means midnight at the end of the day."""

    school = SubmitField(_l("Fill in school hours (Mon–Fri 16:00–22:00, Sat 09:00–18:00)"))
    save = SubmitField(_l("Save"))

    def day_fields(self, day: int):
        """The (from, until) pairs of one weekday."""
        names = [n.format(d=day) for n in _NAMES]
        return [
            (getattr(self, names[i]), getattr(self, names[i + 1])) for i in range(0, len(names), 2)
        ]

    def fill(self, windows) -> None:
        by_day: dict[int, list] = {d: [] for d in range(7)}
        for weekday, opens, closes in windows:
            by_day[weekday].append((opens, closes))
        for day in range(7):
            for i, (opening, closing) in enumerate(self.day_fields(day)):
                found = by_day[day][i] if i < len(by_day[day]) else None
                for f, minutes in (
                    (opening, found and found[0]),
                    (closing, found and found[1]),
                ):
                    f.raw_data = []
                    f.data = None if found is None else _clock(minutes)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for day in range(7):
            for opening, closing in self.day_fields(day):
                if (opening.data is None) != (closing.data is None):
                    empty = opening if opening.data is None else closing
                    empty.errors = [*empty.errors, _l("Please give both times, or neither.")]
                    ok = False
        return ok

    def windows(self) -> list[places.Window]:
        found = []
        for day in range(7):
            for opening, closing in self.day_fields(day):
                if opening.data is None or closing.data is None:
                    continue
                closes = closing.data.hour * 60 + closing.data.minute or 24 * 60
                found.append((day, opening.data.hour * 60 + opening.data.minute, closes))
        return found


def _clock(minutes: int) -> dt_time:
    return dt_time(0, 0) if minutes >= 24 * 60 else dt_time(minutes // 60, minutes % 60)


for _day in range(7):
    for _i, _name in enumerate(_NAMES):
        setattr(
            OpeningHoursForm,
            _name.format(d=_day),
            _time(_l("From") if _i % 2 == 0 else _l("Until")),
        )


class ImportForm(FlaskForm):
    """A CSV file of sites and rooms (``services.room_import``)."""

    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(_l("Please choose a CSV file.")),
            FileAllowed(["csv", "txt"], _l("Please choose a CSV file (.csv).")),
            FileSize(
                room_import.MAX_BYTES,
                message=_l(
                    "The file is too large: at most %(max)d MB, please.",
                    max=room_import.MAX_BYTES // (1024 * 1024),
                ),
            ),
        ],
        description=_l(
            "UTF-8, separated by commas or semicolons (Excel: “CSV UTF-8”), one row per room."
        ),
        render_kw={"accept": ".csv,text/csv"},
    )
