"""The mail outbox: written in the same transaction as the change that causes a mail."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow


@dataclass(frozen=True)
class Attachment:
    """A text file sent with a mail, such as a booking's ``.ics``."""

    filename: str
    content_type: str  # "text/calendar"
    text: str
    params: tuple[tuple[str, str], ...] = ()  # Content-Type parameters: (("method", "PUBLISH"),)


# ``body_html`` holds either the HTML alternative as it is, or, when the mail has attachments,
# this envelope: {"format": ENVELOPE, "html": "...", "attachments": [{...}]}. HTML never starts
# with "{", so a row says which of the two it holds, and rows written before attachments
# existed read as before. (An ``attachments`` column would be clearer; this needs no migration.)
ENVELOPE = "raumboerse-mail-1"


class OutboxMessage(db.Model):
    """One mail to send. A worker sends it after the commit; a rollback means it never existed.

    ``next_attempt_at`` is None once the message is sent or given up (``given_up``: not sent after
    the last attempt); ``last_error`` keeps the latest failure for the operator, without secrets.
    Read the HTML part and the attachments through ``html`` and ``attachments``, which unpack
    ``body_html`` (see ``ENVELOPE``).
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # A mail not written yet: what it is about, as JSON (booking.services.notifications.encode).
    # Emptied once subject and body are written (after the answer, or by the worker).
    notice: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_message_next_attempt_at", "next_attempt_at"),)

    @staticmethod
    def pack_html(html: str | None, attachments: tuple[Attachment, ...] = ()) -> str | None:
        """What ``body_html`` stores for this HTML part and these attachments."""
        if not attachments:
            return html
        files = [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "text": a.text,
                "params": [list(p) for p in a.params],
            }
            for a in attachments
        ]
        return json.dumps({"format": ENVELOPE, "html": html, "attachments": files})

    def _unpacked(self) -> dict:
        stored = self.body_html
        if stored and stored.startswith("{"):
            try:
                envelope = json.loads(stored)
            except ValueError:
                envelope = None
            if isinstance(envelope, dict) and envelope.get("format") == ENVELOPE:
                return envelope
        return {"html": stored, "attachments": []}

    @property
    def html(self) -> str | None:
        """The mail's HTML alternative (None: a text-only mail)."""
        return self._unpacked()["html"]

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        return tuple(
            Attachment(
                a["filename"],
                a["content_type"],
                a["text"],
                tuple(tuple(p) for p in a.get("params", ())),
            )
            for a in self._unpacked()["attachments"]
        )

    @property
    def given_up(self) -> bool:
        """The worker stopped trying (``MAIL_MAX_ATTEMPTS`` failures): the final state of a mail
        that never went out. (A ``failed_at`` column would say when; this needs no migration.)"""
        return self.sent_at is None and self.next_attempt_at is None

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} attempts={self.attempts}>"  # no address: ends up in logs
