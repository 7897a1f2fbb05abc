"""The CSV import of sites and rooms (#11) in chromium: a wrong file shows every problem with
its row, the sample file imports; accessible, and usable at 360 px."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import func, select

from booking.models import Room
from tests.conftest import PASSWORD

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "rooms-sample.csv"


def log_in(page, email: str) -> None:
    page.goto("/login?lang=en")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()


def test_an_administrator_imports_the_sample_after_fixing_a_file(
    page, db, make_user, tmp_path, axe
):
    make_user(email="stadt@example.org", is_admin=True, language="en")
    db.session.commit()
    wrong = tmp_path / "raeume.csv"
    wrong.write_text(
        SAMPLE.read_text(encoding="utf-8")
        .replace("Musikraum,,30,", "Musikraum,,dreißig,")
        .replace("kitchen|tables_chairs|wifi", "kitchen|beamer"),
        encoding="utf-8",
    )
    log_in(page, "stadt@example.org")
    page.goto("/admin")
    page.get_by_role("link", name="Import sites and rooms (CSV)").click()
    expect(page.locator("main h1")).to_have_text("Import sites and rooms")
    assert axe(page) == [], "import page"

    page.get_by_label("CSV file").set_input_files(str(wrong))
    page.get_by_role("button", name="Check and import").click()
    expect(page.locator("#error-summary")).to_contain_text("Problems found: 2")
    rows = page.locator("table.import-errors tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("5")
    expect(rows.nth(0)).to_contain_text("dreißig is not a whole number.")
    expect(rows.nth(1)).to_contain_text("features")
    assert axe(page) == [], "import errors"
    db.session.rollback()  # a fresh snapshot of what the server committed
    assert db.session.scalar(select(func.count()).select_from(Room)) == 0

    page.get_by_label("CSV file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Check and import").click()
    expect(page.locator("#report")).to_contain_text("7 rows read.")
    assert axe(page) == [], "import report"
    db.session.rollback()  # a fresh snapshot of what the server committed
    assert db.session.scalar(select(func.count()).select_from(Room)) == 7


def test_the_import_page_fits_a_phone(phone_page, db, make_user, tmp_path, horizontal_scroll):
    make_user(email="stadt@example.org", is_admin=True, language="en")
    db.session.commit()
    wrong = tmp_path / "raeume.csv"
    wrong.write_text(
        SAMPLE.read_text(encoding="utf-8").replace("sports_floor|", "sportsfloor|"),
        encoding="utf-8",
    )
    log_in(phone_page, "stadt@example.org")
    phone_page.goto("/admin/import")
    phone_page.evaluate("document.fonts.ready")  # measure the laid-out page, fonts loaded
    assert not horizontal_scroll(phone_page)
    phone_page.get_by_label("CSV file").set_input_files(str(wrong))
    phone_page.get_by_role("button", name="Check and import").click()
    expect(phone_page.locator("table.import-errors tbody tr")).to_have_count(3)
    # The rows are there before the answer's stylesheets are: measure the page once loaded.
    phone_page.wait_for_load_state("load")
    phone_page.evaluate("document.fonts.ready")
    assert not horizontal_scroll(phone_page)
