"""Command-line tools: ``flask --app booking <command>``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from booking import unit_of_work


def register_cli(app: Flask) -> None:
    from booking.api.cli import create_token_command
    from booking.cli_mail import send_digests_command, send_mail_command

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(import_closures_command)
    app.cli.add_command(import_rooms_command)
    app.cli.add_command(send_mail_command)
    app.cli.add_command(send_digests_command)
    app.cli.add_command(create_token_command)
    app.cli.add_command(purge_command)


@click.command("seed-demo")
@unit_of_work.command
def seed_demo_command() -> None:
    """Fill the database with demo data for Iserlohn (safe to run again)."""
    from booking.demo import DEMO_PASSWORD, seed_demo

    counts = seed_demo(log=click.echo)
    click.echo("Added: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    click.echo(f"Demo accounts use the password {DEMO_PASSWORD!r} (see README).")


@click.command("create-user")
@unit_of_work.command
@click.option("--email", required=True)
@click.option("--password", help="Required for a new user; changes an existing user's password.")
@click.option("--name", help="Required for a new user.")
@click.option("--admin/--no-admin", default=None, help="Grant or take administrator rights.")
@click.option("--manages", "manages", type=int, multiple=True, metavar="SITE_ID")
@click.option("--member-of", "member_of", type=int, multiple=True, metavar="ORG_ID")
def create_user_command(email, password, name, admin, manages, member_of) -> None:
    """Create a user, or update an existing one's password and roles."""
    from booking.services.accounts import upsert_user

    user = upsert_user(
        email=email,
        name=name,
        password=password,
        admin=admin,
        manages=manages,
        member_of=member_of,
    )
    click.echo(f"User {user.id} ({user.email}) is ready.")


@click.command("import-closures")
@unit_of_work.command
@click.argument("ics_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", "site_ids", type=int, multiple=True, metavar="SITE_ID", required=True)
def import_closures_command(ics_file: Path, site_ids) -> None:
    """Import the events of an iCalendar file (e.g. school holidays) as closures of sites."""
    from booking.services import closures
    from booking.services.accounts import system_user

    periods = closures.parse_ics_periods(ics_file.read_bytes())
    changed = closures.import_periods(system_user(), site_ids, periods)
    click.echo(f"{len(periods)} periods read, {changed} closures added or changed.")


@click.command("import-rooms")
@unit_of_work.command
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "actor_email",
    metavar="EMAIL",
    help="The administrator the audit trail names (default: the system, no person).",
)
def import_rooms_command(csv_file: Path, actor_email: str | None) -> None:
    """Create and update sites and rooms from a CSV file (see docs/facility-office.md).

    Every row is checked first: any error is listed with its row number and nothing is written
    (exit code 1). Importing the same file again changes nothing."""
    from booking.services import room_import
    from booking.services.accounts import find_user, system_user

    actor = system_user()
    if actor_email:
        actor = find_user(actor_email)
        if actor is None or not actor.active or not actor.is_admin:
            raise click.BadParameter("not an active administrator's e-mail", param_hint="--as")
    try:
        report = room_import.import_rooms(actor, csv_file.read_bytes())
    except room_import.ImportRejected as exc:
        for error in exc.errors:
            where = [f"row {error.row}"] if error.row else []  # row 0: the whole file
            where += [f"column {error.column}"] if error.column else []
            parts = [csv_file.name, ", ".join(where), error.text]
            click.echo(": ".join(p for p in parts if p), err=True)
        raise click.ClickException(exc.text) from None
    click.echo(report.text)


@click.command("purge")
@unit_of_work.command
def purge_command() -> None:
    """Apply the retention rule (run daily, e.g. from cron): anonymise bookings and audit events
    older than RETENTION_MONTHS, delete mails older than MAIL_RETENTION_DAYS, used or expired
    password-reset links, logins no cookie can use any more and answered or expired invitations
    older than MAIL_RETENTION_DAYS. Running it again the same day changes nothing."""
    from flask import current_app

    from booking.services import privacy
    from booking.web.accounts.privacy import anonymous_title

    policy = privacy.RetentionPolicy.from_config(current_app.config)
    counts = privacy.purge(policy, anonymous_title=anonymous_title())
    click.echo(
        f"{counts['bookings_anonymised']} bookings anonymised, "
        f"{counts['audit_events_anonymised']} audit events anonymised, "
        f"{counts['mails_deleted']} mails deleted, "
        f"{counts['reset_links_deleted']} password-reset links deleted, "
        f"{counts['logins_ended']} unusable logins ended, "
        f"{counts['invitations_deleted']} old invitations deleted "
        f"(retention: {policy.months} months, mails: {policy.mail_days} days)."
    )
