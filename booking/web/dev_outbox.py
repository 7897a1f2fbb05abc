"""``/dev/outbox``: the outbox as a page, for development and the demo only.

Without an SMTP server, mails (a password reset link among them) would otherwise only reach the
log of a ``send-mail`` worker. The blueprint is registered only when ``BOOKING_ENV`` is
``development`` and the app is not a test app (see ``booking.app.register_blueprints``), so a
production or test app has no such route at all. Even then it answers only requests made on
this machine, directly (not through a proxy): the page shows every mail's text, reset links
included, and a server started with the default ``BOOKING_ENV`` by mistake must not publish them.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import OutboxMessage
from booking.services import mail

bp = Blueprint("dev", __name__)

SHOWN = 50
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
LINK = re.compile(r"https?://[^\s<>\"]+")


@bp.before_request
def only_from_this_machine():
    if request.remote_addr not in LOOPBACK or any(h in request.headers for h in PROXY_HEADERS):
        abort(404)


@bp.get("/dev/outbox")
def outbox():
    # Mails queued outside a request (commands, scripts) wait as notices for the worker; write
    # them now, so the outbox shows what would be sent.
    mail.render_pending()
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(SHOWN)
    ).all()
    total = db.session.scalar(select(func.count(OutboxMessage.id)))
    # The text's links as links, so a reset link is one click away.
    links = {m.id: list(dict.fromkeys(LINK.findall(m.body_text))) for m in messages}
    return render_template(
        "dev/outbox.html", messages=messages, links=links, total=total, shown=SHOWN
    )
