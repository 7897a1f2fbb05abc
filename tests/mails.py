"""Reading the links that mails in the outbox carry, as a person would click them."""

from __future__ import annotations

import re

from sqlalchemy import select

from booking.models import OutboxMessage


def last_mail_to(db, address: str) -> OutboxMessage:
    db.session.commit()  # a fresh look: the request that wrote the mail ran in its own session
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == address)
        .order_by(OutboxMessage.id.desc())
    ).first()


def confirmation_link(db, address: str) -> str:
    """The path of the newest registration link mailed to ``address``."""
    body = last_mail_to(db, address).body_text
    return re.search(r"https?://[^/\s]+(/register/confirm/\S+)", body)[1]
