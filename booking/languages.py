"""The languages the interface, mails and feeds are translated into, the first the default."""

LANGUAGES: tuple[str, ...] = ("de", "en")

# How dates and times are written in each language. The English pages are read in Germany:
# 24-hour times and day-month dates (British usage, "Tuesday, 1 December 2026, 18:00"), not the
# American "6:00 PM" that Babel's plain "en" gives.
FORMAT_LOCALES: dict[str, str] = {"en": "en_GB"}

# Languages an open offer can be held in (ISO 639-1), beyond the interface's: those most spoken
# in the town besides German. Each is named in itself on the pages.
SPOKEN_LANGUAGES: tuple[str, ...] = (
    "de", "en", "tr", "ar", "uk", "ru", "pl", "ku", "fa", "ro", "bg", "sq", "it", "fr", "es",
)  # fmt: skip
