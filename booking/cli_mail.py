"""``flask --app booking send-mail``: deliver the outbox once, or keep doing so as a worker;
``send-digests``: the site managers' daily summaries of new requests (into the outbox)."""

from __future__ import annotations

import logging
import time

import click
from flask import current_app

from booking import unit_of_work
from booking.extensions import db

log = logging.getLogger(__name__)


def summary(counts: dict[str, int]) -> str:
    """One pass in a line: "3 sent, 1 failed (1 given up)." (failed counts the given up too)."""
    failed = counts["failed"] + counts["given_up"]
    given_up = f" ({counts['given_up']} given up)" if counts["given_up"] else ""
    return f"{counts['sent']} sent, {failed} failed{given_up}."


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running and deliver new mail as it comes.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between passes.")
def send_mail_command(loop: bool, interval: float) -> None:
    """Send the mails waiting in the outbox (retrying failed ones with back-off).

    A mail that fails is recorded and retried; it does not make the command fail. It exits
    non-zero when the mail server cannot be used or the database fails; a ``--loop`` worker
    logs those and tries again at the next pass.
    """
    from booking.services.mail import MailSettings, send_pending

    settings = MailSettings.from_config(current_app.config)
    while True:
        try:
            counts = send_pending(settings)
        except Exception:
            if not loop:
                raise
            log.exception("Mail pass failed; trying again in %s seconds", interval)
            db.session.remove()  # a broken transaction must not poison the next pass
            counts = None
        if counts is not None and (not loop or any(counts.values())):
            click.echo(summary(counts))
        if counts is not None and counts["server_error"] and not loop:
            raise click.ClickException(
                f"the mail server {settings.server}:{settings.port} cannot be used "
                "(see the log); the mails stay in the outbox."
            )
        if not loop:
            return
        try:
            time.sleep(max(interval, 0.5))
        except KeyboardInterrupt:
            return


@click.command("send-digests")
@unit_of_work.command
def send_digests_command() -> None:
    """Write the daily summary of new requests for each manager who chose one (run once a day;
    a second run sends only what came in since)."""
    from booking.services.request_mails import send_digests

    sent = send_digests()
    click.echo(f"{sent} daily {'summary' if sent == 1 else 'summaries'} written to the outbox.")
