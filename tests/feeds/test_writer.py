"""The iCalendar text writer, read back the way calendar apps read it."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from booking.feeds.writer import duration, escape_text, fold
from feeds.readers import all_readers

PROPERTY = settings(max_examples=200, deadline=None, database=None)

# Text as people type it: any letters, digits, punctuation, symbols and emoji, the characters
# TEXT escapes, tabs and line breaks; no other control characters.
TYPED = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        st.sampled_from(["\\", ";", ",", "\n", "\r", "\t", "ä", "€", "🎶", "𝄞", "語"]),
    ),
    max_size=300,
)


def _physical_lines(folded: str) -> list[bytes]:
    assert folded.endswith("\r\n")
    return folded.encode("utf-8")[: -len(b"\r\n")].split(b"\r\n")


@PROPERTY
@given(TYPED.map(lambda text: "SUMMARY:" + text.replace("\r", "").replace("\n", "")))
@example("DESCRIPTION:" + "ä" * 80)
@example("SUMMARY:" + "x" * 65 + "🎶" * 5)
@example("LOCATION:" + "a" * 65 + "\\" + "\\" * 20)
def test_folded_lines_fit_75_octets_and_unfold_to_the_original(line):
    folded = fold(line)
    pieces = _physical_lines(folded)
    for number, piece in enumerate(pieces):
        assert len(piece) <= 75, piece
        piece.decode("utf-8")  # a fold never splits a multi-byte character
        if number:
            assert piece.startswith(b" ")
    assert folded[: -len("\r\n")].replace("\r\n ", "") == line


def _calendar(*lines: str) -> str:
    return "".join(
        [
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\n",
            "BEGIN:VEVENT\r\nUID:1@test\r\nDTSTAMP:20270101T000000Z\r\n",
            "DTSTART:20270101T100000Z\r\nDTEND:20270101T110000Z\r\n",
            *lines,
            "END:VEVENT\r\nEND:VCALENDAR\r\n",
        ]
    )


def _typed_back(text: str) -> str:
    """What a reader gives back: any line break becomes a newline."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@PROPERTY
@given(TYPED)
@example("Chor; Probe, Stimmbildung\\ mit Kaffee\nund Kuchen")
@example("C:\\new\\Nord")
@example("ends with a backslash\\")
def test_escaped_text_reads_back_unchanged(text):
    body = _calendar(fold(f"SUMMARY:{escape_text(text)}"), fold(f"DESCRIPTION:{escape_text(text)}"))
    event = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == _typed_back(text)
    assert str(event["DESCRIPTION"]) == _typed_back(text)


@pytest.mark.parametrize(
    "text",
    [
        "Probe; danach, wenn's passt, Essen",
        "Pfad C:\\Users\\new\\Neu",
        "Zeile 1\nZeile 2\r\nZeile 3",
        "Ü" * 40 + "🎶" * 20 + ";,\\",
    ],
)
def test_three_readers_agree_on_escaped_and_folded_text(text):
    events = all_readers(_calendar(fold(f"SUMMARY:{escape_text(text)}")).encode())
    assert events["1@test"]["summary"] == _typed_back(text)


@pytest.mark.parametrize(
    ("seconds", "written"),
    [
        (60, "PT1M"),
        (900, "PT15M"),
        (3600, "PT1H"),
        (3661, "PT1H1M1S"),
        (5400, "PT1H30M"),
        (86400, "P1D"),
        (90061, "P1DT1H1M1S"),
        (7 * 86400, "P7D"),
    ],
)
def test_durations_are_rfc_5545_durations(seconds, written):
    assert duration(timedelta(seconds=seconds)) == written
    body = _calendar().replace("VERSION:2.0\r\n", f"VERSION:2.0\r\nX-PUBLISHED-TTL:{written}\r\n")
    calendar = icalendar.Calendar.from_ical(body)
    assert icalendar.vDuration.from_ical(str(calendar["X-PUBLISHED-TTL"])) == timedelta(
        seconds=seconds
    )
