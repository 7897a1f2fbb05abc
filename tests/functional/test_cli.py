"""The command-line tools as an operator runs them."""

from __future__ import annotations

from importlib import resources

from sqlalchemy import func, select

from booking.models import Booking, Closure, Occurrence, Organisation, Room, Site, User


def counts(db) -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Site, Room, Organisation, User, Booking, Occurrence, Closure)
    }


def test_seed_demo_is_realistic_and_idempotent(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    first = counts(db)
    assert first["Site"] >= 12
    assert first["Room"] >= 40
    assert first["Organisation"] >= 10
    assert first["Booking"] >= 200
    assert db.session.scalar(select(func.count()).where(Booking.rrule.is_not(None))) >= 10
    # A divisible triple gym, rooms bookable a school year ahead, holidays as closures
    gym = db.session.scalar(select(Room).where(Room.name == "Dreifachturnhalle"))
    assert len(gym.parts) == 3
    assert db.session.scalar(select(func.max(Room.max_advance_days))) >= 365
    assert db.session.scalar(select(Closure).where(Closure.reason.like("Herbstferien%")))
    # Demo bookings go through the real services but queue no mail for anyone
    from booking.models.mail import OutboxMessage

    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    managers = db.session.scalar(
        select(User).where(User.email == "hausmeister.stenner@example.org")
    )
    assert [s.name for s in managers.managed_sites] == ["Gymnasium An der Stenner"]

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert counts(db) == first


def test_create_user_creates_then_updates(app, db, make_site, make_organisation):
    site = make_site()
    organisation = make_organisation()
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Kim@Example.org",
            "--password",
            "a-long-password",
            "--name",
            "Kim",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "kim@example.org"))
    assert user.password_hash.startswith("$argon2id$")
    old_hash = user.password_hash

    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "kim@example.org",
            "--password",
            "another-password",
            "--admin",
            "--manages",
            str(site.id),
            "--member-of",
            str(organisation.id),
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    [user] = db.session.scalars(select(User).where(User.email == "kim@example.org")).all()
    assert user.is_admin and user.password_hash != old_hash
    assert user.managed_sites == [site]
    assert [o.id for o in user.organisations] == [organisation.id]


def test_create_user_errors_are_clear(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--email", "new@example.org", "--password", "x"])
    assert result.exit_code != 0
    assert "needs a name" in result.output
    result = runner.invoke(
        args=["create-user", "--email", "new@example.org", "--password", "short", "--name", "N"]
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "not-an-address",
            "--name",
            "N",
            "--password",
            "long-enough-pw",
        ]
    )
    assert result.exit_code != 0
    assert "not valid" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_import_closures_from_the_nrw_holiday_calendar(app, db, make_site, tmp_path):
    site = make_site()
    db.session.commit()
    ics = tmp_path / "ferien.ics"
    ics.write_bytes(
        resources.files("booking.data").joinpath("nrw-school-holidays-2026-2028.ics").read_bytes()
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-closures", str(ics), "--site", str(site.id)])
    assert result.exit_code == 0, result.output
    closures = db.session.scalars(select(Closure).order_by(Closure.starts_at)).all()
    assert closures and all(c.site_id == site.id for c in closures)
    autumn = next(
        c for c in closures if c.reason.startswith("Herbstferien") and c.starts_at.year == 2026
    )
    # Herbstferien NRW 2026: 17 to 31 October inclusive, local midnight to midnight
    assert autumn.starts_at.isoformat() == "2026-10-16T22:00:00+00:00"
    assert autumn.ends_at.isoformat() == "2026-10-31T23:00:00+00:00"

    again = runner.invoke(args=["import-closures", str(ics), "--site", str(site.id)])
    assert "0 closures added or changed" in again.output
    assert db.session.scalar(select(func.count()).select_from(Closure)) == len(closures)
