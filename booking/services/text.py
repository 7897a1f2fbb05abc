"""Which characters a text may hold. A one-line text (a title, a name, a phone number) ends up
in mail subjects, iCal lines and tables: a line break there lets a title add a header to a mail
("Chorprobe\\rBcc: ..."), so it holds no control character at all. A text of several lines (a
description) may hold tabs and line breaks, but no other control character. NUL is refused
everywhere: PostgreSQL cannot store it."""

from __future__ import annotations

import re

from booking.services.errors import N_, InvalidRequest

# C0 controls (tab and line breaks too), DEL, C1 controls and Unicode's line and paragraph
# separators. The pattern is also the JSON schema's for the API's one-line fields.
_SINGLE_LINE_CHARS = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]*"
SINGLE_LINE_PATTERN = f"^{_SINGLE_LINE_CHARS}$"
_SINGLE_LINE = re.compile(_SINGLE_LINE_CHARS)
# C0 controls but tab, line feed and carriage return; DEL.
_MULTI_LINE = re.compile(r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*")

SINGLE_LINE_MESSAGE = N_("Please write this on one line, without tabs or control characters.")
MULTI_LINE_MESSAGE = N_("Please remove the control characters from this text.")


def is_single_line(text: str) -> bool:
    return _SINGLE_LINE.fullmatch(text) is not None


def is_clean_text(text: str) -> bool:
    """A text of several lines: tabs and line breaks are fine, other control characters not."""
    return _MULTI_LINE.fullmatch(text) is not None


def check_single_line(text: str, field: str) -> str:
    """``text`` unchanged, or InvalidRequest naming ``field``."""
    if not is_single_line(text):
        raise InvalidRequest(SINGLE_LINE_MESSAGE, field, code="control_characters")
    return text


def check_clean_text(text: str, field: str) -> str:
    if not is_clean_text(text):
        raise InvalidRequest(MULTI_LINE_MESSAGE, field, code="control_characters")
    return text
