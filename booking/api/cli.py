"""``flask --app booking create-token --email E [--name N]``."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from booking import unit_of_work
from booking.extensions import db


@click.command("create-token")
@unit_of_work.command
@click.option("--email", required=True, help="The user the token acts for.")
@click.option("--name", default="CLI", show_default=True, help="A name to recognise it by.")
def create_token_command(email: str, name: str) -> None:
    """Create an API token for a user and print it (on the last line, shown only this once)."""
    from booking.api.tokens import create_token
    from booking.models import User

    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"There is no user with the e-mail address {email}.")
    token, plain = create_token(user, name)
    db.session.flush()
    click.echo(f"Token {token.id} ({token.name!r}) for {user.email}. It is shown only this once:")
    click.echo(plain)
