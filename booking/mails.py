"""How notices become mails: templates in the recipient's language, with absolute links.

The services decide what to tell whom (``booking.services.notifications``); this module, on the
application's side, decides what it says. Installed by the application factory.
"""

from __future__ import annotations

import logging

from flask import after_this_request, current_app, g, has_request_context, render_template
from flask_babel import force_locale, gettext, ngettext

from booking import mail_parts
from booking.extensions import db
from booking.languages import LANGUAGES
from booking.links import base_url
from booking.models import OccurrenceStatus, User
from booking.services import mail, notifications
from booking.services.notifications import Notice, RenderedMail

log = logging.getLogger(__name__)


def _language(user: User) -> str:
    return user.language if user.language in LANGUAGES else LANGUAGES[0]


def _subject(notice: Notice) -> str:
    title = notice.booking.title if notice.booking is not None else ""
    if notice.kind == "password_reset":
        return gettext("Reset your password")
    if notice.kind == "confirm_address":
        return gettext(
            "Confirm your address for %(site)s", site=current_app.config["BOOKING_SITE_NAME"]
        )
    if notice.kind == "already_registered":
        return gettext(
            "You already have an account at %(site)s",
            site=current_app.config["BOOKING_SITE_NAME"],
        )
    if notice.kind == "member_invitation":
        return gettext(
            "Invitation to join %(organisation)s", organisation=notice.values["organisation"]
        )
    if notice.kind == "invitation_answered":
        if notice.values["accepted"]:
            return gettext(
                "Invitation accepted: %(organisation)s",
                organisation=notice.values["organisation"],
            )
        return gettext(
            "Invitation declined: %(organisation)s", organisation=notice.values["organisation"]
        )
    if notice.kind == "invitation":
        return gettext("Your account at %(site)s", site=current_app.config["BOOKING_SITE_NAME"])
    if notice.kind == "booking_received":
        if notice.values["pending"]:
            return gettext("Booking request received: %(title)s", title=title)
        return gettext("Booking confirmed: %(title)s", title=title)
    if notice.kind == "booking_moved":
        return gettext("Booking moved: %(title)s", title=title)
    if notice.kind == "request_received":
        room = notice.booking.room if notice.booking is not None else None
        return gettext(
            "New booking request: %(title)s (%(room)s, %(site)s)",
            title=title,
            room=room.name if room else "",
            site=room.site.name if room else "",
        )
    if notice.kind == "dates_cancelled":
        return ngettext(
            "Date cancelled: %(title)s (%(room)s)",
            "%(num)d dates cancelled: %(title)s (%(room)s)",
            notice.values["count"],
            title=title,
            room=notice.booking.room.name if notice.booking is not None else "",
        )
    if notice.kind == "join_request":
        return gettext(
            "%(name)s asks to join %(organisation)s",
            name=notice.values["requester"],
            organisation=notice.values["organisation"],
        )
    if notice.kind == "join_decided":
        if notice.values["accepted"]:
            return gettext(
                "You are now a member of %(organisation)s",
                organisation=notice.values["organisation"],
            )
        return gettext(
            "Your request to join %(organisation)s was declined",
            organisation=notice.values["organisation"],
        )
    if notice.kind == "request_digest":
        return ngettext(
            "%(num)d new booking request",
            "%(num)d new booking requests",
            len(notice.values["requests"]),
        )
    status = notice.values.get("status")
    if status is OccurrenceStatus.APPROVED and notice.values.get("partial"):
        return gettext("Booking partly approved: %(title)s", title=title)
    if status is OccurrenceStatus.APPROVED:
        return gettext("Booking approved: %(title)s", title=title)
    if status is OccurrenceStatus.DECLINED:
        return gettext("Booking declined: %(title)s", title=title)
    if status is OccurrenceStatus.CANCELLED:
        return gettext("Booking cancelled: %(title)s", title=title)
    return gettext("Booking changed: %(title)s", title=title)


def render(notice: Notice) -> RenderedMail:
    language = _language(notice.recipient)
    with force_locale(language):
        context = dict(
            user=notice.recipient,
            booking=notice.booking,
            dates=notice.dates,
            link=base_url() + notice.path,
            base=base_url(),
            house_rules=mail_parts.house_rules(notice.booking),
            **notice.values,
        )
        body = render_template(f"mail/{notice.kind}.txt", **context)
        subject = _subject(notice)
        return RenderedMail(
            subject=subject,
            text=body,
            html=mail_parts.html(notice, subject, **context),
            attachments=mail_parts.calendar_attachment(notice, language),
        )


def init_app(app) -> None:
    notifications.use_renderer(render)
    mail.use_scheduler(_write_after_the_answer)


def _write_after_the_answer(message_id: int) -> None:
    """In a request: write the mails its change queued once the answer has been sent (the
    request's transaction is committed by then), so rendering costs the person nothing. Outside
    a request (commands, scripts) the mail worker writes them before sending."""
    if not has_request_context():
        return
    pending = g.setdefault("mails_to_write", [])
    if not pending:
        app = current_app._get_current_object()

        @after_this_request
        def _after(response):
            ids = list(g.get("mails_to_write", ()))
            if ids and response.status_code < 400:  # else the unit of work rolled them back
                response.call_on_close(lambda: _write(app, ids))
            return response

    pending.append(message_id)


def _write(app, ids: list[int]) -> None:
    """A short unit of work of its own. A mail that cannot be written now is left to the worker
    (which retries and reports), never an error for a request that has been answered."""
    with app.app_context():
        try:
            mail.render_pending(ids)
            db.session.commit()
        except Exception:
            log.warning("Mails %s left for the mail worker to write", ids, exc_info=True)
            db.session.rollback()
        finally:
            db.session.remove()
