"""Sites and rooms from a CSV file (#11): every row is checked first, every problem is reported
with its row and column, nothing is written when any row is wrong, and importing the same file
again changes nothing. Through the upload form, the command line and the service."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from booking.models import AuditEvent, Room, Site, SiteKind
from booking.services import room_import
from booking.services.errors import NotPermitted

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "rooms-sample.csv"
HEADER = ",".join(room_import.HEADER)


def row(**cells) -> dict[str, str]:
    """A valid row of a small district house; ``cells`` change it."""
    base = {
        "site_name": "Bürgerhaus Test",
        "site_kind": "district_house",
        "district": "Mitte",
        "street": "Weg 1",
        "postcode": "58636",
        "city": "Iserlohn",
        "room_name": "Saal",
        "parent_room": "",
        "capacity": "80",
        "area_m2": "120",
        "features": "stage|kitchen",
        "step_free": "yes",
        "accessible_toilet": "no",
        "hearing_loop": "",
        "approval_policy": "manual",
        "min_lead_minutes": "60",
        "max_advance_days": "365",
        "min_duration_minutes": "30",
        "max_duration_minutes": "600",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "15",
        "description": "Ein Saal.",
        "house_rules": "",
    }
    return base | cells


def csv_bytes(*rows: dict[str, str], delimiter: str = ",", bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(room_import.HEADER)
    for cells in rows:
        writer.writerow([cells[c] for c in room_import.HEADER])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def counts(db) -> tuple[int, int, int]:
    db.session.expire_all()
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Site, Room, AuditEvent)
    )


def upload(client, data: bytes, name: str = "rooms.csv"):
    return client.post(
        "/admin/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def rooms_by_name(db) -> dict[str, Room]:
    db.session.expire_all()
    return {r.name: r for r in db.session.scalars(select(Room))}


# --- the happy path ---------------------------------------------------------------------------


def test_the_sample_file_creates_sites_and_rooms_and_a_second_upload_changes_nothing(
    client, db, make_user, login_as
):
    admin = login_as(make_user(is_admin=True, language="en"))
    page = client.get("/admin/import")
    assert page.status_code == 200
    assert "site_name,site_kind,district" in page.get_data(as_text=True)

    response = upload(client, SAMPLE.read_bytes())
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    assert "7 rows read." in body
    assert "<td>2</td><td>0</td><td>0</td>" in body  # sites: created, updated, unchanged
    assert "<td>7</td><td>0</td><td>0</td>" in body  # rooms

    school = db.session.scalar(select(Site).where(Site.name == "Realschule Am Hemberg"))
    assert school.kind is SiteKind.SCHOOL and school.district == "Hemberg"
    assert school.postcode == "58636" and school.active
    rooms = rooms_by_name(db)
    gym = rooms["Zweifachturnhalle"]
    assert sorted(p.name for p in gym.parts) == ["Turnhalle Hälfte A", "Turnhalle Hälfte B"]
    assert gym.site_id == school.id and gym.parent_id is None
    assert gym.capacity == 120 and gym.area_m2 == 900
    assert set(gym.features) == {"sports_floor", "changing_rooms", "showers"}
    assert gym.step_free and gym.accessible_toilet and not gym.hearing_loop
    assert (gym.min_lead_minutes, gym.max_advance_days) == (2880, 365)
    assert (gym.min_duration_minutes, gym.max_duration_minutes) == (60, 240)
    assert (gym.buffer_before_minutes, gym.buffer_after_minutes) == (15, 15)
    assert gym.description.startswith("Teilbar durch einen Vorhang in zwei Hälften, Geräteraum")
    assert gym.house_rules == "Nur Hallenschuhe mit heller Sohle."
    assert rooms["Musikraum"].approval_policy.value == "trusted"
    assert rooms["Gruppenraum"].house_rules == ""
    # Every site and room has its audit row, naming the administrator.
    events = list(db.session.scalars(select(AuditEvent)))
    assert sorted(e.action for e in events) == ["room_created"] * 7 + ["site_created"] * 2
    assert {e.actor_id for e in events} == {admin.id}

    before = counts(db)
    again = upload(client, SAMPLE.read_bytes())
    assert again.status_code == 200
    assert "<td>0</td><td>0</td><td>2</td>" in again.get_data(as_text=True)
    assert "<td>0</td><td>0</td><td>7</td>" in again.get_data(as_text=True)
    assert counts(db) == before  # no new site, room or audit row


def test_a_changed_cell_updates_only_that_room_and_says_so(db, make_user):
    admin = make_user(is_admin=True)
    room_import.import_rooms(admin, SAMPLE.read_bytes())
    db.session.commit()
    text = SAMPLE.read_text(encoding="utf-8").replace(
        "Musikraum,,30,70,piano|sound_system|tables_chairs",
        "Musikraum,,35,70,piano|tables_chairs",
    )
    report = room_import.import_rooms(admin, text.encode())
    db.session.commit()
    assert (report.sites_created, report.sites_updated, report.sites_unchanged) == (0, 0, 2)
    assert (report.rooms_created, report.rooms_updated, report.rooms_unchanged) == (0, 1, 6)
    music = rooms_by_name(db)["Musikraum"]
    assert music.capacity == 35
    assert set(music.features) == {"piano", "tables_chairs"}
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "room_updated"))
    assert event.room_id == music.id
    assert event.details["changes"]["capacity"] == [30, 35]


def test_existing_sites_and_rooms_are_matched_by_name_and_the_rest_is_left_alone(
    db, make_user, make_site, make_room
):
    admin = make_user(is_admin=True)
    site = make_site(name="Bürgerhaus Test", kind=SiteKind.DISTRICT_HOUSE, district="Alt")
    hall = make_room(site, name="Saal", capacity=50)
    other = make_room(site, name="Keller", capacity=5)
    db.session.commit()
    report = room_import.import_rooms(
        admin,
        csv_bytes(
            # Names match ignoring case; the new part belongs to the hall already known.
            row(site_name="bürgerhaus test", room_name="SAAL", district="Mitte"),
            row(
                site_name="bürgerhaus test",
                room_name="Bühne",
                parent_room="saal",
                district="Mitte",
                capacity="20",
            ),
        ),
    )
    db.session.commit()
    assert (report.sites_created, report.sites_updated) == (0, 1)
    assert (report.rooms_created, report.rooms_updated) == (1, 1)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Site)) == 1
    assert site.district == "Mitte" and site.name == "bürgerhaus test"
    assert hall.capacity == 80 and hall.name == "SAAL"
    assert [p.name for p in hall.parts] == ["Bühne"]
    assert other.capacity == 5  # not in the file: untouched
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "site_updated"))
    assert event.details["changes"]["district"] == ["Alt", "Mitte"]


def test_semicolons_and_a_byte_order_mark_as_german_excel_writes_them(db, make_user):
    admin = make_user(is_admin=True)
    data = csv_bytes(
        row(room_name="Saal"),
        row(room_name="Bühne", parent_room="Saal", description="Klein; fein, gut"),
        delimiter=";",
        bom=True,
    )
    assert data.startswith(b"\xef\xbb\xbf") and b"site_name;site_kind" in data
    report = room_import.import_rooms(admin, data)
    assert (report.sites_created, report.rooms_created) == (1, 2)
    stage = rooms_by_name(db)["Bühne"]
    assert stage.parent.name == "Saal"
    assert stage.description == "Klein; fein, gut"
    # The sample turned into German Excel's format imports the same.
    sample = SAMPLE.read_text(encoding="utf-8")
    records = list(csv.reader(io.StringIO(sample)))
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(records)
    report = room_import.import_rooms(admin, b"\xef\xbb\xbf" + out.getvalue().encode())
    assert (report.sites_created, report.rooms_created) == (2, 7)


def test_only_administrators_import(db, make_user, make_site):
    site = make_site()
    manager = make_user(manages=[site])
    with pytest.raises(NotPermitted):
        room_import.import_rooms(manager, SAMPLE.read_bytes())


# --- errors -----------------------------------------------------------------------------------


def rejected(admin, data: bytes) -> list[tuple[int, str | None]]:
    with pytest.raises(room_import.ImportRejected) as caught:
        room_import.import_rooms(admin, data)
    return [(e.row, e.column) for e in caught.value.errors]


def test_every_wrong_cell_of_every_row_is_reported_and_nothing_is_written(
    db, make_user, make_site, make_room
):
    admin = make_user(is_admin=True)
    known = make_site(name="Schule Bekannt")
    make_room(known, name="Aula")
    db.session.commit()
    before = counts(db)
    data = csv_bytes(
        row(room_name="Saal"),  # 2: fine
        row(room_name="Raum 3", capacity="zwölf", area_m2="12,5"),  # 3: bad numbers
        row(room_name="Raum 4", features="stage|beamer"),  # 4: unknown equipment
        row(room_name="Raum 5", approval_policy="sometimes", step_free="vielleicht"),  # 5
        row(room_name="Raum 6", parent_room="Turnhalle"),  # 6: no such whole
        row(room_name="saal"),  # 7: the same room again
        row(room_name="Raum 8", capacity="-1", buffer_after_minutes="5000"),  # 8: out of range
        row(room_name="", min_duration_minutes="90", max_duration_minutes="60"),  # 9
        row(room_name="Raum 10", district="Anderswo"),  # 10: the site's columns disagree
        row(room_name="Raum 11", parent_room="Raum 11"),  # 11: a part of itself
        row(site_name="Neu", site_kind="castle", district="", room_name="R"),  # 12
        row(room_name="Raum 13", min_duration_minutes="90", max_duration_minutes="60"),  # 13
        row(
            site_name="Schule Bekannt", site_kind="school", room_name="Teil", parent_room="Aula"
        ),  # 14: fine, a part of a room already known
        row(
            site_name="Schule Bekannt",
            site_kind="school",
            room_name="Bühne",
            parent_room="Turnhalle",
        ),  # 15: the known site has no such room
    )
    assert rejected(admin, data) == [
        (3, "capacity"),
        (3, "area_m2"),
        (4, "features"),
        (5, "step_free"),
        (5, "approval_policy"),
        (6, "parent_room"),
        (7, "room_name"),
        (8, "capacity"),
        (8, "buffer_after_minutes"),
        (9, "room_name"),
        (10, "district"),
        (11, "parent_room"),
        (12, "site_kind"),
        (12, "district"),
        (13, "max_duration_minutes"),
        (15, "parent_room"),
    ]
    db.session.rollback()
    assert counts(db) == before


def test_the_messages_name_what_is_wrong(db, make_user):
    admin = make_user(is_admin=True)
    with pytest.raises(room_import.ImportRejected) as caught:
        room_import.import_rooms(
            admin,
            csv_bytes(
                row(capacity="zwölf", features="beamer", site_kind="castle"),
                row(room_name="Saal"),
            ),
        )
    texts = {(e.row, e.column): e.text for e in caught.value.errors}
    assert texts[(2, "capacity")] == "zwölf is not a whole number."
    assert texts[(2, "features")].startswith("Unknown equipment beamer; known are: ")
    assert texts[(2, "site_kind")].startswith("castle is not one of: school, library")
    assert texts[(3, "site_kind")] == "This differs from row 2, the first row of the same site."
    assert texts[(3, "room_name")] == "This room of this site is in row 2 already."
    assert caught.value.text == "Nothing was imported. Problems found: 5."


def test_parts_that_make_a_cycle_are_refused(db, make_user):
    admin = make_user(is_admin=True)
    data = csv_bytes(
        row(room_name="A", parent_room="B"),
        row(room_name="B", parent_room="C"),
        row(room_name="C", parent_room="A"),
    )
    assert rejected(admin, data) == [(2, "parent_room"), (3, "parent_room"), (4, "parent_room")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (HEADER.replace("site_kind", "kind").encode() + b"\n", [(1, "kind"), (1, "site_kind")]),
        ((HEADER + ",colour").encode() + b"\n", [(1, "colour")]),
        ((HEADER + ",capacity").encode() + b"\n", [(1, "capacity")]),
        (HEADER.replace(",house_rules", "").encode() + b"\n", [(1, "house_rules")]),
        (b"", [(1, None)]),
        (HEADER.encode() + b"\n", [(2, None)]),
        (HEADER.encode() + b"\n" + ",".join(["x"] * 24).encode() + b"\n", [(2, None)]),
        # Windows-1252, as Excel's plain "CSV" writes umlauts: the line is named.
        (HEADER.encode() + b"\nB\xfcrgerhaus\n", [(2, None)]),
    ],
    ids=["unknown", "extra", "twice", "missing", "empty", "no-rows", "long-row", "not-utf8"],
)
def test_a_wrong_file_is_refused_with_the_reason(db, make_user, data, expected):
    assert rejected(make_user(is_admin=True), data) == expected


def test_cells_missing_at_the_end_of_a_row_are_empty(db, make_user):
    cells = ",".join(row()[c] for c in room_import.HEADER[:-2])  # no description, house rules
    report = room_import.import_rooms(make_user(is_admin=True), f"{HEADER}\n{cells}\n\n".encode())
    assert report.rooms_created == 1


def test_the_upload_form_lists_every_problem_with_its_row(client, db, make_user, login_as):
    login_as(make_user(is_admin=True, language="en"))
    response = upload(
        client,
        csv_bytes(
            row(room_name="Saal"),
            row(room_name="Bühne", capacity="viele"),
            row(room_name="Foyer", features="beamer"),
        ),
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Nothing was imported. Problems found: 2." in body
    assert "<td>3</td>" in body and "<code>capacity</code>" in body
    assert "viele is not a whole number." in body
    assert "<td>4</td>" in body and "<code>features</code>" in body
    assert counts(db) == (0, 0, 0)


def test_the_upload_form_wants_a_csv_file(client, db, make_user, login_as):
    login_as(make_user(is_admin=True, language="en"))
    assert client.post("/admin/import", data={}).status_code == 422
    response = upload(client, b"GIF89a", name="photo.gif")
    assert response.status_code == 422
    assert "Please choose a CSV file (.csv)." in response.get_data(as_text=True)


def test_managers_may_not_import(client, db, make_user, make_site, login_as):
    login_as(make_user(manages=[make_site()]))
    assert client.get("/admin/import").status_code == 403
    assert upload(client, SAMPLE.read_bytes()).status_code == 403
    assert counts(db)[1] == 0


# --- the command line -------------------------------------------------------------------------


def test_the_command_imports_and_reports(app, db, tmp_path, make_user):
    admin = make_user(is_admin=True, email="admin@example.org")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-rooms", str(SAMPLE), "--as", "Admin@Example.org"])
    assert result.exit_code == 0, result.output
    assert "Sites: 2 created, 0 updated, 0 unchanged." in result.output
    assert "Rooms: 7 created, 0 updated, 0 unchanged." in result.output
    db.session.expire_all()
    assert {e.actor_id for e in db.session.scalars(select(AuditEvent))} == {admin.id}
    again = runner.invoke(args=["import-rooms", str(SAMPLE)])
    assert again.exit_code == 0
    assert "Rooms: 0 created, 0 updated, 7 unchanged." in again.output


def test_the_command_lists_the_errors_and_writes_nothing(app, db, tmp_path, make_user):
    bad = tmp_path / "rooms.csv"
    bad.write_bytes(csv_bytes(row(), row(room_name="Bühne", capacity="viele", parent_room="X")))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-rooms", str(bad)])
    assert result.exit_code == 1
    assert "rooms.csv: row 3, column capacity: viele is not a whole number." in result.stderr
    assert "rooms.csv: row 3, column parent_room: The site has no room X," in result.stderr
    assert "Nothing was imported. Problems found: 2." in result.stderr
    assert counts(db) == (0, 0, 0)


def test_the_command_names_a_problem_of_the_whole_file(app, db, tmp_path):
    workbook = tmp_path / "rooms.csv"
    workbook.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")  # an .xlsx
    result = app.test_cli_runner().invoke(args=["import-rooms", str(workbook)])
    assert result.exit_code == 1
    assert "rooms.csv: This is not a CSV file. In Excel, save it as" in result.stderr


def test_the_command_acts_only_for_an_administrator(app, db, make_user):
    make_user(email="member@example.org")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["import-rooms", str(SAMPLE), "--as", "member@example.org"]
    )
    assert result.exit_code == 2
    assert "not an active administrator" in result.output
    assert counts(db)[0] == 0
