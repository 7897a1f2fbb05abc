"""Command-line tools: ``flask --app booking <command>``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from booking import unit_of_work


def register_cli(app: Flask) -> None:
    from booking.api.cli import create_token_command
    from booking.cli_mail import send_mail_command

    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(import_closures_command)
    app.cli.add_command(send_mail_command)
    app.cli.add_command(create_token_command)


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
