"""Which characters a one-line text and a text of several lines may hold (services/text.py)."""

from __future__ import annotations

import pytest

from booking.services.errors import InvalidRequest
from booking.services.text import check_clean_text, check_single_line, is_clean_text, is_single_line


@pytest.mark.parametrize(
    "text", ["Chorprobe", "Café für Ältere – 2. Stock", "Sprechstunde 🌍", "a" * 500, ""]
)
def test_ordinary_text_is_one_line(text):
    assert is_single_line(text)
    assert is_clean_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "Chor\rBcc: x@evil",
        "Chor\n",
        "Chor\tprobe",
        "a\x00b",
        "a\x1bb",
        "a\x7fb",
        "a\x85b",
        "a\u2028b",
    ],
)
def test_line_breaks_tabs_and_controls_are_not_one_line(text):
    assert not is_single_line(text)
    with pytest.raises(InvalidRequest) as refused:
        check_single_line(text, "title")
    assert refused.value.field == "title"
    assert refused.value.code == "control_characters"


def test_several_lines_may_hold_line_breaks_and_tabs_but_no_other_control():
    assert check_clean_text("Erste Zeile\r\n\tZweite Zeile\n", "description")
    for text in ("a\x00b", "a\x1bb", "a\x07b", "a\x7fb"):
        with pytest.raises(InvalidRequest):
            check_clean_text(text, "description")
