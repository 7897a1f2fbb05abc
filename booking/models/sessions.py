"""Login sessions kept on the server, so that logging out really ends them.

A signed cookie alone cannot be taken back: whoever copied it could use it until it expired.
Each login therefore gets a row here; the session cookie and the remember-me cookie carry its id
and a random secret, and only SHA-256 hashes of the secrets are stored (the secrets have 256
random bits, so a fast hash is enough, as for API tokens). Deleting the row ends the login on
that device at its next request; deleting all of a user's rows logs them out everywhere.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.extensions import db
from booking.models.people import User
from booking.models.types import UTCDateTime, utcnow


class LoginSession(db.Model):
    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    # What the signed session cookie carries besides the id (hashed here).
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "Stay logged in": the remember-me token, rotated each time it starts a new session; the
    # one before stays good for a short while, for requests the browser sent side by side.
    remember_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    previous_remember_hash: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    remember_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Shown on the profile ("Firefox on Android, since 3 May") so a person can tell devices apart.
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} of user {self.user_id}>"
