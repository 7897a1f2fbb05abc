"""The languages the interface, mails and feeds are translated into, the first the default."""

LANGUAGES: tuple[str, ...] = ("de", "en")
