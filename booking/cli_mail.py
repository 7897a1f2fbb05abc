"""``flask --app booking send-mail``: deliver the outbox once, or keep doing so as a worker;
``send-digests``: the site managers' daily summaries of new requests (into the outbox)."""

from __future__ import annotations

import time

import click
from flask import current_app

from booking import unit_of_work


@click.command("send-mail")
@click.option("--loop", is_flag=True, help="Keep running and deliver new mail as it comes.")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between passes.")
def send_mail_command(loop: bool, interval: float) -> None:
    """Send the mails waiting in the outbox (retrying failed ones with back-off)."""
    from booking.services.mail import MailSettings, send_pending

    settings = MailSettings.from_config(current_app.config)
    while True:
        counts = send_pending(settings)
        if not loop or any(counts.values()):
            click.echo(
                f"{counts['sent']} sent, {counts['failed']} to retry, "
                f"{counts['given_up']} given up."
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
