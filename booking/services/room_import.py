"""Sites and rooms from a CSV file: every row is checked first, and nothing is written unless
every row is right.

One row per room; the site's columns are repeated on each of its rooms' rows (and must agree).
Sites are matched by name, rooms by site and name (both ignoring case): what is missing is
created, what differs is updated, what is equal is left alone, so importing the same file again
changes nothing. Rooms and sites that are not in the file are not touched.

``HEADER`` lists the columns every file has (in any order); ``OPTIONAL_COLUMNS`` may be added.
A column that is not in the file leaves that attribute of an existing site as it is. Empty cells:
``capacity`` is required; ``min_lead_minutes`` and the buffers mean 0; ``area_m2``,
``max_advance_days`` and the durations mean "no limit"; ``approval_policy`` means manual; the
yes/no columns mean no. ``features`` are keys of the equipment list (``services.features``)
separated by ``|`` (a deactivated one only for a room that has it already); ``parent_room``
names the whole (a room of the same site, in the file or already known) this room is a part
of, empty for none.

The file is UTF-8 (a byte order mark is fine, as Excel's "CSV UTF-8" writes it), separated by
``,`` or ``;`` (German Excel), whichever the header line uses. Rows are numbered as a
spreadsheet shows them: the header is row 1.

Only administrators import (it creates sites). The writes go through ``services.places``, so
each created or changed site and room gets its audit row there.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from booking.database import begin_write
from booking.extensions import db
from booking.models import ApprovalPolicy, Room, Site, SiteKind
from booking.services import catalogue, permissions, places
from booking.services.errors import N_, InvalidRequest, NotPermitted
from booking.services.places import (  # the form's and the API's checks, applied per cell
    validate_room,
    validate_site,
)

MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024

# column -> SiteCommand field
SITE_COLUMNS = {
    "site_name": "name",
    "site_kind": "kind",
    "district": "district",
    "street": "street",
    "postcode": "postcode",
    "city": "city",
}
OPTIONAL_SITE_COLUMNS = {
    "site_timezone": "timezone",
    "site_contact_name": "contact_name",
    "site_contact_phone": "contact_phone",
    "site_contact_email": "contact_email",
    "site_description": "description",
}
# column -> RoomCommand field
ROOM_COLUMNS = {
    "room_name": "name",
    "parent_room": "parent_id",
    "capacity": "capacity",
    "area_m2": "area_m2",
    "features": "features",
    "step_free": "step_free",
    "accessible_toilet": "accessible_toilet",
    "hearing_loop": "hearing_loop",
    "approval_policy": "approval_policy",
    "min_lead_minutes": "min_lead_minutes",
    "max_advance_days": "max_advance_days",
    "min_duration_minutes": "min_duration_minutes",
    "max_duration_minutes": "max_duration_minutes",
    "buffer_before_minutes": "buffer_before_minutes",
    "buffer_after_minutes": "buffer_after_minutes",
    "description": "description",
    "house_rules": "house_rules",
}
HEADER: tuple[str, ...] = (*SITE_COLUMNS, *ROOM_COLUMNS)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(OPTIONAL_SITE_COLUMNS)
FEATURE_SEPARATOR = "|"

_REQUIRED_NUMBERS = {"capacity"}
_ZERO_WHEN_EMPTY = {"min_lead_minutes", "buffer_before_minutes", "buffer_after_minutes"}
_NONE_WHEN_EMPTY = {"area_m2", "max_advance_days", "min_duration_minutes", "max_duration_minutes"}
_FLAGS = {"step_free", "accessible_toilet", "hearing_loop"}
_YES = {"yes", "y", "ja", "j", "true", "wahr", "1", "x"}
_NO = {"no", "n", "nein", "false", "falsch", "0", ""}

# Known-good commands: a cell is checked by putting it into one of these, so every wrong cell of
# a row is reported, not just the first.
_SITE_PROBE = places.SiteCommand(name="probe", kind=SiteKind.OTHER.value, district="probe")
_ROOM_PROBE = places.RoomCommand(name="probe", capacity=0)
_SITE_FIELD_COLUMNS = {v: k for k, v in (SITE_COLUMNS | OPTIONAL_SITE_COLUMNS).items()}
_ROOM_FIELD_COLUMNS = {v: k for k, v in ROOM_COLUMNS.items()}


@dataclass(frozen=True)
class RowError:
    """One problem: the spreadsheet row (the header is row 1; 0: the file as a whole), the
    column, and an ``N_`` message with its parameters."""

    row: int
    column: str | None
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.message % self.params if self.params else self.message


class ImportRejected(InvalidRequest):
    """The file has errors (``errors``, in row order); nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(
            N_("Nothing was imported. Problems found: %(count)d."),
            "file",
            code="import_invalid",
            count=len(errors),
        )
        self.errors = errors


@dataclass
class ImportReport:
    rows: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    sites_unchanged: int = 0
    rooms_created: int = 0
    rooms_updated: int = 0
    rooms_unchanged: int = 0
    # Upcoming approved dates that collide after buffers or parts changed (nothing re-checked).
    collisions: int = 0

    @property
    def text(self) -> str:
        return (
            f"{self.rows} rows read. "
            f"Sites: {self.sites_created} created, {self.sites_updated} updated, "
            f"{self.sites_unchanged} unchanged. "
            f"Rooms: {self.rooms_created} created, {self.rooms_updated} updated, "
            f"{self.rooms_unchanged} unchanged."
            + (
                f" {self.collisions} upcoming approved dates now collide: please check the plans."
                if self.collisions
                else ""
            )
        )


@dataclass
class _SiteRow:
    row: int
    key: str
    cells: dict[str, str]
    values: dict[str, Any]  # SiteCommand fields given in the file


@dataclass
class _RoomRow:
    row: int
    site_key: str
    key: str
    parent_key: str | None
    parent_name: str  # as the file spells it
    values: dict[str, Any]  # RoomCommand fields given in the file (parent_id aside)


# --- reading ----------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected(
            [
                RowError(
                    line,
                    None,
                    N_(
                        "The file is not UTF-8 text (first unreadable character in line "
                        "%(line)d). Save it as “CSV UTF-8”."
                    ),
                    {"line": line},
                )
            ]
        ) from None


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def read_rows(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header (lower case) and the non-empty rows with their row numbers, as text cells;
    ImportRejected for an unreadable file or a wrong header."""
    if len(data) > MAX_BYTES:
        raise ImportRejected(
            [
                RowError(
                    0,
                    None,
                    N_("The file is too large: at most %(max)d MB, please."),
                    {"max": MAX_BYTES // (1024 * 1024)},
                )
            ]
        )
    if b"\x00" in data:  # a picture, a PDF, an Excel workbook (.xlsx)
        raise ImportRejected(
            [RowError(0, None, N_("This is not a CSV file. In Excel, save it as “CSV UTF-8”."))]
        )
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    errors: list[RowError] = []
    records: list[list[str]] = []
    try:
        records = [[cell.strip() for cell in record] for record in reader]
    except csv.Error:
        raise ImportRejected(
            [RowError(reader.line_num, None, N_("This line cannot be read as CSV."))]
        ) from None
    if not records or not any(records[0]):
        raise ImportRejected([RowError(1, None, N_("The file is empty: a header is needed."))])
    header = [name.lower() for name in records[0]]
    while header and not header[-1]:
        header.pop()  # spreadsheets may add empty columns at the end
    known = set(HEADER) | set(OPTIONAL_COLUMNS)
    seen: set[str] = set()
    for name in header:
        if not name:
            errors.append(RowError(1, None, N_("A column of the header has no name.")))
        elif name not in known:
            errors.append(RowError(1, name, N_("Unknown column %(name)s."), {"name": name}))
        elif name in seen:
            errors.append(
                RowError(1, name, N_("The column %(name)s appears twice."), {"name": name})
            )
        seen.add(name)
    for name in HEADER:
        if name not in seen:
            errors.append(RowError(1, name, N_("The column %(name)s is missing."), {"name": name}))
    if errors:
        raise ImportRejected(errors)
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(record):
            continue  # a blank line
        if len(record) > len(header) and any(record[len(header) :]):
            errors.append(
                RowError(
                    number,
                    None,
                    N_("This row has more cells (%(cells)d) than the header (%(columns)d)."),
                    {"cells": len(record), "columns": len(header)},
                )
            )
            continue
        # Cells missing at the end of a row are empty (some programs leave them out).
        rows.append(
            (
                number,
                {name: (record[i] if i < len(record) else "") for i, name in enumerate(header)},
            )
        )
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected([RowError(2, None, N_("The file has no rows below the header."))])
    if len(rows) > MAX_ROWS:
        raise ImportRejected(
            [RowError(0, None, N_("At most %(max)d rows at a time, please."), {"max": MAX_ROWS})]
        )
    return header, rows


# --- cells ------------------------------------------------------------------------------------


class _CellError(Exception):
    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def _whole_number(text: str, column: str) -> int | None:
    if not text:
        if column in _REQUIRED_NUMBERS:
            raise _CellError(N_("Please enter a number."))
        return 0 if column in _ZERO_WHEN_EMPTY else None
    digits = text.removeprefix("-")
    if not digits.isascii() or not digits.isdigit():
        raise _CellError(N_("%(value)s is not a whole number."), value=text)
    return int(text)


def _yes_no(text: str) -> bool:
    word = text.lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise _CellError(N_("Please write yes or no, not %(value)s."), value=text)


def _choice(text: str, vocabulary, default: str | None = None) -> str:
    word = text.lower()
    if not word and default is not None:
        return default
    values = [v.value for v in vocabulary]
    if word not in values:
        raise _CellError(
            N_("%(value)s is not one of: %(choices)s."),
            value=text or "—",
            choices=", ".join(values),
        )
    return word


def _features(text: str) -> tuple[str, ...]:
    words = [w.strip().lower() for w in text.split(FEATURE_SEPARATOR) if w.strip()]
    # Any listed key reads; an inactive one is refused later for a room that lacks it.
    listed = catalogue.current().features
    unknown = [w for w in words if w not in listed]
    if unknown:
        raise _CellError(
            N_("Unknown equipment %(value)s; known are: %(choices)s."),
            value=", ".join(unknown),
            choices=", ".join(f.key for f in listed.values() if f.active),
        )
    return tuple(sorted(set(words)))


def _site_cell(column: str, text: str) -> Any:
    if column == "site_kind":
        return _choice(text, SiteKind)
    return text


def _room_cell(column: str, text: str) -> Any:
    if column in _REQUIRED_NUMBERS | _ZERO_WHEN_EMPTY | _NONE_WHEN_EMPTY:
        return _whole_number(text, column)
    if column in _FLAGS:
        return _yes_no(text)
    if column == "approval_policy":
        return _choice(text, ApprovalPolicy, ApprovalPolicy.MANUAL.value)
    if column == "features":
        return _features(text)
    return text


def _probe(validate, probe, field_name: str, value: Any) -> InvalidRequest | None:
    try:
        validate(replace(probe, **{field_name: value}))
    except InvalidRequest as exc:
        return exc
    return None


def _error(row: int, exc: InvalidRequest, columns: dict[str, str], fallback: str) -> RowError:
    return RowError(row, columns.get(exc.field or "", fallback), exc.message, dict(exc.params))


def _parse(number: int, cells: dict[str, str], errors: list[RowError]) -> tuple[_SiteRow, _RoomRow]:
    site_values: dict[str, Any] = {}
    for column, name in (SITE_COLUMNS | OPTIONAL_SITE_COLUMNS).items():
        if column not in cells:
            continue
        try:
            value = _site_cell(column, cells[column])
        except _CellError as exc:
            errors.append(RowError(number, column, exc.message, exc.params))
            continue
        problem = _probe(validate_site, _SITE_PROBE, name, value)
        if problem is not None:
            errors.append(_error(number, problem, _SITE_FIELD_COLUMNS, column))
            continue
        site_values[name] = value
    room_values: dict[str, Any] = {}
    for column, name in ROOM_COLUMNS.items():
        if column == "parent_room":
            continue
        try:
            value = _room_cell(column, cells[column])
        except _CellError as exc:
            errors.append(RowError(number, column, exc.message, exc.params))
            continue
        problem = _probe(validate_room, _ROOM_PROBE, name, value)
        if problem is not None:
            errors.append(_error(number, problem, _ROOM_FIELD_COLUMNS, column))
            continue
        room_values[name] = value
    if len(room_values) == len(ROOM_COLUMNS) - 1:  # each cell is fine: now the whole row
        try:
            validate_room(places.RoomCommand(**room_values))
        except InvalidRequest as exc:
            errors.append(_error(number, exc, _ROOM_FIELD_COLUMNS, "room_name"))
    site_cells = {c: cells[c] for c in (*SITE_COLUMNS, *OPTIONAL_SITE_COLUMNS) if c in cells}
    site_key = cells["site_name"].lower()
    parent = cells["parent_room"].lower() or None
    return (
        _SiteRow(number, site_key, site_cells, site_values),
        _RoomRow(
            number, site_key, cells["room_name"].lower(), parent, cells["parent_room"], room_values
        ),
    )


# --- checking the file as a whole -------------------------------------------------------------


@dataclass
class _Known:
    """The sites of the file that exist already (by lower-case name) and all their rooms."""

    sites: dict[str, Site]
    rooms: dict[str, dict[str, Room]]  # site key -> lower-case room name -> room

    @classmethod
    def load(cls, site_keys: set[str]) -> _Known:
        # Compared in Python: SQLite's lower() leaves non-ASCII letters (Ä, Ü) as they are.
        sites = {s.name.lower(): s for s in db.session.scalars(select(Site))}
        sites = {key: site for key, site in sites.items() if key in site_keys}
        rooms: dict[str, dict[str, Room]] = {key: {} for key in sites}
        by_id = {site.id: key for key, site in sites.items()}
        if by_id:
            for room in db.session.scalars(select(Room).where(Room.site_id.in_(sorted(by_id)))):
                rooms[by_id[room.site_id]][room.name.lower()] = room
        return cls(sites, rooms)

    def parents(self) -> dict[str, dict[str, str | None]]:
        """Per site: each known room's whole, by lower-case name."""
        found: dict[str, dict[str, str | None]] = defaultdict(dict)
        for site_key, rooms in self.rooms.items():
            names = {room.id: name for name, room in rooms.items()}
            for name, room in rooms.items():
                found[site_key][name] = names.get(room.parent_id)
        return found


def _check_file(
    site_rows: list[_SiteRow], room_rows: list[_RoomRow], known: _Known, errors: list[RowError]
) -> dict[str, dict[str, str | None]]:
    """Check what no single row shows; return each site's parts as they will be."""
    first_of_site: dict[str, _SiteRow] = {}
    for site_row in site_rows:
        first = first_of_site.setdefault(site_row.key, site_row)
        if first is site_row:
            continue
        for column, text in site_row.cells.items():
            if text != first.cells.get(column):
                errors.append(
                    RowError(
                        site_row.row,
                        column,
                        N_("This differs from row %(row)d, the first row of the same site."),
                        {"row": first.row},
                    )
                )
    seen: dict[tuple[str, str], int] = {}
    for room_row in room_rows:
        key = (room_row.site_key, room_row.key)
        if key in seen:
            errors.append(
                RowError(
                    room_row.row,
                    "room_name",
                    N_("This room of this site is in row %(row)d already."),
                    {"row": seen[key]},
                )
            )
        else:
            seen[key] = room_row.row
    # The parts after the import: the file's rows over the rooms already known.
    parents = known.parents()
    for room_row in room_rows:
        parents[room_row.site_key][room_row.key] = room_row.parent_key
    for room_row in room_rows:
        if room_row.parent_key is None:
            continue
        tree = parents[room_row.site_key]
        if room_row.parent_key not in tree:
            errors.append(
                RowError(
                    room_row.row,
                    "parent_room",
                    N_("The site has no room %(name)s, neither in the file nor already."),
                    {"name": room_row.parent_name},
                )
            )
            continue
        step: str | None = room_row.parent_key
        for _hop in range(len(tree)):
            if step is None or step == room_row.key:
                break
            step = tree.get(step)
        if step == room_row.key:
            errors.append(
                RowError(
                    room_row.row,
                    "parent_room",
                    N_("A room cannot be a part of itself or of one of its own parts."),
                )
            )
    return parents


def _normal(validate, cmd):
    """A command as the service would store it (None if what is stored would not pass)."""
    try:
        return validate(cmd)
    except InvalidRequest:
        return None


def _site_commands(
    site_rows: list[_SiteRow], known: _Known, errors: list[RowError]
) -> dict[str, places.SiteCommand]:
    """Per site of the file: its command, over what an existing site has where the file has no
    column (and its ``active`` flag, which only the site's form changes)."""
    commands: dict[str, places.SiteCommand] = {}
    for site_row in site_rows:
        if site_row.key in commands:
            continue
        existing = known.sites.get(site_row.key)
        base = (
            places.site_command(existing)
            if existing is not None
            else places.SiteCommand(name="", kind="", district="")
        )
        try:
            commands[site_row.key] = validate_site(replace(base, **site_row.values))
        except InvalidRequest as exc:
            errors.append(_error(site_row.row, exc, _SITE_FIELD_COLUMNS, "site_name"))
    return commands


def _room_commands(
    room_rows: list[_RoomRow], known: _Known, errors: list[RowError]
) -> dict[int, places.RoomCommand]:
    """Per row: the room's command (without its whole, which may not exist yet), over what an
    existing room has that the file does not say (``active``)."""
    commands: dict[int, places.RoomCommand] = {}
    for room_row in room_rows:
        existing = known.rooms.get(room_row.site_key, {}).get(room_row.key)
        base = (
            places.room_command(existing)
            if existing is not None
            else places.RoomCommand(name="", capacity=0)
        )
        try:
            cmd = validate_room(
                replace(base, **room_row.values, parent_id=None),
                had=() if existing is None else existing.features,
            )
        except InvalidRequest as exc:
            errors.append(_error(room_row.row, exc, _ROOM_FIELD_COLUMNS, "room_name"))
        else:
            commands[room_row.row] = cmd
    return commands


def _depth(tree: dict[str, str | None], key: str) -> int:
    depth, step = 0, tree.get(key)
    while step is not None:
        depth, step = depth + 1, tree.get(step)
    return depth


def _error_order(error: RowError) -> tuple[int, int]:
    columns = (*HEADER, *OPTIONAL_COLUMNS)
    return error.row, columns.index(error.column) if error.column in columns else -1


# --- importing --------------------------------------------------------------------------------


def _same_room(a: places.RoomCommand, b: places.RoomCommand | None) -> bool:
    if b is None:
        return False
    return replace(a, features=tuple(sorted(a.features))) == replace(
        b, features=tuple(sorted(b.features))
    )


def import_rooms(user, data: bytes, *, now: datetime | None = None) -> ImportReport:
    """Check every row of a CSV file, then create and update its sites and rooms; raise
    ``ImportRejected`` with every problem (and write nothing) when any row is wrong."""
    user = permissions.require_user(user)
    if not user.is_admin:
        raise NotPermitted(
            N_("Only administrators may import sites and rooms."), code="admins_only"
        )
    begin_write()  # SQLite: the write lock before the names are looked up
    _header, rows = read_rows(data)
    errors: list[RowError] = []
    parsed = [_parse(number, cells, errors) for number, cells in rows]
    site_rows = [s for s, _r in parsed]
    room_rows = [r for _s, r in parsed]
    known = _Known.load({s.key for s in site_rows})
    final = _check_file(site_rows, room_rows, known, errors)
    if not errors:
        site_commands = _site_commands(site_rows, known, errors)
        room_commands = _room_commands(room_rows, known, errors)
    if errors:
        raise ImportRejected(sorted(errors, key=_error_order))

    report = ImportReport(rows=len(rows))
    sites: dict[str, Site] = {}
    for site_key, cmd in site_commands.items():
        existing = known.sites.get(site_key)
        if existing is None:
            sites[site_key] = places.create_site(user, cmd)
            report.sites_created += 1
            continue
        sites[site_key] = existing
        if cmd == _normal(validate_site, places.site_command(existing)):
            report.sites_unchanged += 1
        else:
            places.update_site(user, existing.id, cmd)
            report.sites_updated += 1

    made = {(s, name): room for s, rooms in known.rooms.items() for name, room in rooms.items()}
    # Wholes before their parts: each part's whole then exists and is as the file wants it.
    for room_row in sorted(room_rows, key=lambda r: (_depth(final[r.site_key], r.key), r.row)):
        parent = made[(room_row.site_key, room_row.parent_key)] if room_row.parent_key else None
        cmd = replace(room_commands[room_row.row], parent_id=None if parent is None else parent.id)
        existing = made.get((room_row.site_key, room_row.key))
        if existing is None:
            saved = places.create_room(user, sites[room_row.site_key].id, cmd, now=now)
            made[(room_row.site_key, room_row.key)] = saved.room
            report.rooms_created += 1
        elif _same_room(cmd, _normal(validate_room, places.room_command(existing))):
            report.rooms_unchanged += 1
            continue
        else:
            saved = places.update_room(user, existing.id, cmd, now=now)
            report.rooms_updated += 1
        report.collisions += saved.collisions
    db.session.flush()
    return report


def sample_header(delimiter: str = ",") -> str:
    """The header line of a file with every required column."""
    return delimiter.join(HEADER)
