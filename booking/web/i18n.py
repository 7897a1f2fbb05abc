"""Language choice and locale-aware formatting for templates.

Jinja filters for every template (registered by ``init_app``):

``value|localdate``, ``value|localtime``, ``value|localdatetime``
    Show a datetime in the user's language. An aware value (what the models hold: UTC) is first
    converted to a zone: the ``zone`` argument (an IANA name such as ``room.site.timezone`` or a
    ``ZoneInfo``) or else ``BOOKING_TIMEZONE``. A naive value is taken as local wall time already
    (e.g. ``DatePlan.local_start``). ``format`` is a Babel width (``short``, ``medium``, ``long``,
    ``full``) or a CLDR pattern. Examples::

        {{ occ.starts_at|localdate(room.site.timezone, "full") }}  -> Mittwoch, 2. Dezember 2026
        {{ occ.starts_at|localtime(room.site.timezone) }}          -> 18:30
        {{ occ.starts_at|localdatetime }}                          -> 02.12.2026, 18:30
    ``localdate`` also accepts a ``date``.

``status|status_label``
    The translated name of an ``OccurrenceStatus`` (or its string value).

``kind|organisation_kind_label``
    The translated name of an ``OrganisationKind``.

``this_page()`` is the page the language switch's POST leads back to (``?lang=code`` on any
address shows that page in ``code`` and stores nothing); ``current_locale()`` (a global) is the
language code of the page, e.g. ``"de"``.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from flask import Flask, current_app, has_request_context, request, session, url_for
from flask_babel import get_locale, lazy_gettext, refresh
from flask_login import current_user

from booking.languages import FORMAT_LOCALES, LANGUAGES
from booking.models import OccurrenceStatus, OfferAudience, OfferCategory, OrganisationKind
from booking.services import accounts

LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}

STATUS_LABELS = {
    OccurrenceStatus.PENDING: lazy_gettext("waiting for approval"),
    OccurrenceStatus.APPROVED: lazy_gettext("approved"),
    OccurrenceStatus.DECLINED: lazy_gettext("declined"),
    OccurrenceStatus.CANCELLED: lazy_gettext("cancelled"),
}

ORGANISATION_KIND_LABELS = {
    OrganisationKind.ASSOCIATION: lazy_gettext("Association"),
    OrganisationKind.INITIATIVE: lazy_gettext("Initiative"),
    OrganisationKind.SCHOOL: lazy_gettext("School"),
    OrganisationKind.CITY_DEPARTMENT: lazy_gettext("City department"),
    OrganisationKind.CHURCH: lazy_gettext("Church"),
    OrganisationKind.OTHER: lazy_gettext("Other"),
}


OFFER_CATEGORY_LABELS = {
    OfferCategory.SPORT: lazy_gettext("Sport and exercise"),
    OfferCategory.MUSIC: lazy_gettext("Music"),
    OfferCategory.CULTURE: lazy_gettext("Culture"),
    OfferCategory.LEARNING: lazy_gettext("Learning"),
    OfferCategory.LANGUAGE_CAFE: lazy_gettext("Language café"),
    OfferCategory.COUNSELLING: lazy_gettext("Advice and counselling"),
    OfferCategory.YOUTH: lazy_gettext("Youth"),
    OfferCategory.SENIORS: lazy_gettext("Seniors"),
    OfferCategory.FAMILIES: lazy_gettext("Families"),
    OfferCategory.OTHER: lazy_gettext("Other"),
}

OFFER_AUDIENCE_LABELS = {
    OfferAudience.EVERYONE: lazy_gettext("Everyone"),
    OfferAudience.CHILDREN: lazy_gettext("Children"),
    OfferAudience.YOUTH: lazy_gettext("Young people"),
    OfferAudience.ADULTS: lazy_gettext("Adults"),
    OfferAudience.SENIORS: lazy_gettext("Older people"),
    OfferAudience.FAMILIES: lazy_gettext("Families"),
}


def offer_category_label(value) -> str:
    try:
        return str(OFFER_CATEGORY_LABELS[OfferCategory(value)])
    except ValueError:
        return str(value)


def offer_audience_label(value) -> str:
    try:
        return str(OFFER_AUDIENCE_LABELS[OfferAudience(value)])
    except ValueError:
        return str(value)


def spoken_language_name(code: str) -> str:
    """A language named in itself ("Türkçe", "العربية"), so that its speakers find it."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def languages() -> tuple[str, ...]:
    return tuple(current_app.config.get("LANGUAGES", LANGUAGES))


def select_locale() -> str:
    """The user's setting, else ``?lang=``, else the choice kept in the session, else the
    browser's Accept-Language, else German."""
    langs = languages()
    if not has_request_context():
        return langs[0]
    if getattr(current_user, "is_authenticated", False) and current_user.language in langs:
        return current_user.language
    lang = request.args.get("lang")
    if lang in langs:
        return lang
    if session.get("lang") in langs:
        return session["lang"]
    return request.accept_languages.best_match(langs) or langs[0]


def select_timezone() -> str:
    return current_app.config["BOOKING_TIMEZONE"]


def remember_language() -> None:
    """Start each request with a fresh language choice. ``?lang=`` only shows one page in that
    language; what sticks is chosen with the switch's POST (:func:`choose_language`)."""
    # Flask-Babel caches the locale on ``g``; an app context that outlives one request (tests,
    # CLI) must not carry the last request's language into the next.
    refresh()


def choose_language(lang: str) -> bool:
    """Keep ``lang``: in the session for everyone, and as the setting of a logged-in user."""
    if lang not in languages():
        return False
    session["lang"] = lang
    if getattr(current_user, "is_authenticated", False) and current_user.language != lang:
        accounts.set_language(current_user, lang)
    refresh()
    return True


def this_page() -> str:
    """Where the language switch leads back to: this page (without ``?lang=``), or the home
    page after a POST or on an error page."""
    rule = request.url_rule if has_request_context() else None
    if rule is None or request.endpoint is None or request.method != "GET":
        return "/"
    args = request.args.to_dict(flat=False)
    args.pop("lang", None)
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=False)


def format_locale() -> Locale:
    """The locale dates and times are written in: the page's language, English as en_GB."""
    locale = get_locale() or Locale.parse(languages()[0])
    if locale.territory is None and locale.language in FORMAT_LOCALES:
        return Locale.parse(FORMAT_LOCALES[locale.language])
    return locale


def _zone(zone) -> ZoneInfo:
    if zone is None:
        return ZoneInfo(current_app.config["BOOKING_TIMEZONE"])
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(str(zone))


def _local(value: datetime, zone) -> datetime:
    return value.astimezone(_zone(zone)) if value.tzinfo is not None else value


def localdate(value: date | datetime | None, zone=None, format: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, zone).date()
    return babel_dates.format_date(value, format=format, locale=format_locale())


def localtime(value: datetime | None, zone=None, format: str = "short") -> str:
    if value is None:
        return ""
    # A naive time object: Babel must not shift it by the server's own zone.
    return babel_dates.format_time(
        _local(value, zone).time(), format=format, locale=format_locale()
    )


def localdatetime(value: datetime | None, zone=None, format: str = "medium") -> str:
    if value is None:
        return ""
    return f"{localdate(value, zone, format)}, {localtime(value, zone)}"


def status_label(status) -> str:
    try:
        return str(STATUS_LABELS[OccurrenceStatus(status)])
    except ValueError:
        return str(status)


def organisation_kind_label(kind) -> str:
    try:
        return str(ORGANISATION_KIND_LABELS[OrganisationKind(kind)])
    except ValueError:
        return str(kind)


def current_locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else languages()[0]


def init_app(app: Flask) -> None:
    app.before_request(remember_language)
    app.add_template_filter(localdate, "localdate")
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(localdatetime, "localdatetime")
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(organisation_kind_label, "organisation_kind_label")
    app.add_template_filter(offer_category_label, "offer_category_label")
    app.add_template_filter(offer_audience_label, "offer_audience_label")
    app.add_template_filter(spoken_language_name, "spoken_language_name")
    app.add_template_global(this_page, "this_page")
    app.add_template_global(current_locale, "current_locale")
    app.add_template_global(LANGUAGE_NAMES, "language_names")
