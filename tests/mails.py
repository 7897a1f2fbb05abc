"""Reading the mails in the outbox, as they will be sent, and the links they carry, as a
person would click them."""

from __future__ import annotations

import re

from sqlalchemy import select

from booking.models import OutboxMessage
from booking.services import mail


def written(db) -> None:
    """Write the mails still kept as notices, as the worker would before sending (a request
    writes its own once its answer is closed, which a test client may not have done yet)."""
    db.session.commit()  # a fresh look: the request that wrote the mail ran in its own session
    mail.render_pending()
    db.session.commit()


def last_mail_to(db, address: str) -> OutboxMessage:
    written(db)
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == address)
        .order_by(OutboxMessage.id.desc())
    ).first()


def confirmation_link(db, address: str) -> str:
    """The path of the newest registration link mailed to ``address``."""
    body = last_mail_to(db, address).body_text
    return re.search(r"https?://[^/\s]+(/register/confirm/\S+)", body)[1]
