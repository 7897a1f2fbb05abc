"""The mail outbox: written in the same transaction as the change that causes a mail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.extensions import db
from booking.models.types import UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """One mail to send. A worker sends it after the commit; a rollback means it never existed.

    ``next_attempt_at`` is None once the message is sent or given up; ``last_error`` keeps the
    latest SMTP failure for the operator.
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

    __table_args__ = (Index("ix_outbox_message_next_attempt_at", "next_attempt_at"),)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} attempts={self.attempts}>"  # no address: ends up in logs
