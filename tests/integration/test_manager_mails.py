"""Managers hear of new requests (a mail each, a daily summary, or nothing, as each chose) and
requesters of every decision, with dates and reasons: through a real SMTP server on localhost."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking import domain
from booking.models import ApprovalPolicy, AuditEvent, RequestMails, User
from booking.services import mail, request_mails
from booking.services.bookings import (
    BookingCommand,
    approve,
    cancel,
    decline,
    move_occurrence,
    request_booking,
)
from booking.services.errors import InvalidRequest, NotPermitted


def deliver(app, db) -> None:
    """Commit what the test did, then one delivery pass as the worker runs it."""
    db.session.commit()
    with app.app_context():
        mail.send_pending(mail.MailSettings.from_config(app.config))


def body(message) -> str:
    """The plain text, with Babel's narrow no-break spaces ("6:00\u202fPM") as plain ones."""
    return (
        message.get_body(preferencelist=("plain",))
        .get_content()
        .replace("\u202f", " ")
        .replace("\r\n", "\n")
    )


def line(occurrence, times: str = "18:00–20:00") -> str:
    """How an English mail writes a date (en-GB): "Wednesday, 16 December 2026, 18:00–20:00"."""
    local = occurrence.starts_at.astimezone(ZoneInfo(occurrence.room.site.timezone))
    return f"{local:%A}, {local.day} {local:%B} {local.year}, {times}"


def day(n: int) -> date:
    """A date ``n`` days from today: the digest runs at the real time, so dates are upcoming."""
    return date.today() + timedelta(days=n)


def ask(user, room, title: str, *, days: int = 10, count: int = 1, organisation=None):
    start = datetime.combine(day(days), time(18, 0))
    return request_booking(
        user,
        BookingCommand(
            room_id=room.id,
            title=title,
            start=start,
            end=start + timedelta(hours=2),
            organisation_id=organisation.id if organisation else None,
            recurrence=domain.Recurrence(freq="weekly", count=count) if count > 1 else None,
            house_rules_accepted=True,
        ),
    )


@pytest.fixture
def town(make_site, make_room, make_user, make_organisation):
    """Two sites with a manually approved room each, and their managers' different choices."""

    class Town:
        site_x = make_site(name="Gesamtschule Nord")
        site_y = make_site(name="Bücherei Mitte")
        room_x = make_room(site_x, name="Aula", approval_policy=ApprovalPolicy.MANUAL)
        room_y = make_room(site_y, name="Lesesaal", approval_policy=ApprovalPolicy.MANUAL)
        each_x = make_user(email="each-x@example.org", language="en", manages=[site_x])
        digest_x = make_user(
            email="digest-x@example.org",
            language="en",
            manages=[site_x],
            request_mails=RequestMails.DIGEST,
        )
        none_x = make_user(
            email="none-x@example.org",
            language="en",
            manages=[site_x],
            request_mails=RequestMails.NONE,
        )
        gone_x = make_user(email="gone-x@example.org", manages=[site_x], active=False)
        each_y = make_user(email="each-y@example.org", language="en", manages=[site_y])
        choir = make_organisation(name="Chor Nordlicht")
        requester = make_user(
            email="clara@example.org", name="Clara Sänger", language="en", organisations=[choir]
        )

    return Town


def test_a_new_request_mails_the_sites_managers_who_want_each(app, db, smtp, town):
    booking = ask(town.requester, town.room_x, "Chorprobe", count=7, organisation=town.choir)
    deliver(app, db)

    # The requester's receipt and one mail to the one manager of site X who wants each request:
    # not the summary or no-mail managers, not the disabled one, not site Y's manager.
    assert sorted(smtp.recipients()) == ["clara@example.org", "each-x@example.org"]
    [message] = smtp.to("each-x@example.org")
    assert message["Subject"] == "New booking request: Chorprobe (Aula, Gesamtschule Nord)"
    text = body(message)
    assert "Aula, Gesamtschule Nord" in text
    assert "Requested by: Clara Sänger (Chor Nordlicht)" in text
    assert "7 dates:" in text
    # The first five dates, then how many more.
    for occurrence in booking.occurrences[:5]:
        assert f"- {line(occurrence)}\n" in text
    assert line(booking.occurrences[5]) not in text
    assert text.count("18:00–20:00") == 5
    assert "… and 2 more dates" in text
    link = f"http://raumboerse.test/manage/requests?site={town.site_x.id}&room={town.room_x.id}"
    assert link in text


def test_dates_approved_straight_away_mail_no_manager(app, db, smtp, town, make_room):
    hall = make_room(town.site_x, name="Turnhalle", approval_policy=ApprovalPolicy.AUTOMATIC)
    ask(town.requester, hall, "Yoga")
    # A site's manager books their own site: approved at once, nobody else is asked.
    ask(town.each_x, town.room_x, "Elternabend", days=12)
    deliver(app, db)
    assert sorted(smtp.recipients()) == ["clara@example.org", "each-x@example.org"]
    assert [m["Subject"] for m in smtp.to("each-x@example.org")] == [
        "Booking confirmed: Elternabend"
    ]


def run_digests(app) -> str:
    result = app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_daily_summary_lists_new_requests_once(app, db, smtp, town, make_user):
    digest_y = make_user(
        email="digest-y@example.org", manages=[town.site_y], request_mails=RequestMails.DIGEST
    )
    ask(town.requester, town.room_x, "Chorprobe", count=3, organisation=town.choir)
    ask(town.requester, town.room_x, "Sommerfest", days=20)
    deliver(app, db)
    smtp.messages.clear()

    assert "1 daily summary written" in run_digests(app)
    deliver(app, db)
    # Site Y's summary manager has nothing new: no mail; the others chose no summary.
    assert smtp.recipients() == ["digest-x@example.org"]
    [summary] = smtp.to("digest-x@example.org")
    assert summary["Subject"] == "2 new booking requests"
    text = body(summary)
    assert "* Chorprobe" in text and "* Sommerfest" in text
    assert "Requested by: Clara Sänger (Chor Nordlicht)" in text
    assert "3 dates:" in text
    assert "In all, 2 requests wait for an answer at your sites." in text
    assert "http://raumboerse.test/manage/requests" in text

    # A second run the same day: nothing new, nothing sent.
    assert "0 daily summaries written" in run_digests(app)
    deliver(app, db)
    assert len(smtp.messages) == 1

    # A request comes in: the next summary has only that one, and the count of all waiting.
    ask(town.requester, town.room_x, "Weihnachtskonzert", days=30)
    deliver(app, db)
    smtp.messages.clear()
    run_digests(app)
    deliver(app, db)
    [summary] = smtp.to("digest-x@example.org")
    assert summary["Subject"] == "1 new booking request"
    text = body(summary)
    assert "* Weihnachtskonzert" in text
    assert "Chorprobe" not in text and "Sommerfest" not in text
    assert "In all, 3 requests wait for an answer at your sites." in text
    db.session.expire_all()
    assert db.session.get(User, digest_y.id).digest_sent_at is not None
    assert db.session.get(User, town.each_x.id).digest_sent_at is None


def test_the_choice_changes_what_a_manager_gets(app, db, smtp, town):
    request_mails.set_request_mails(town.each_x, "none")
    request_mails.set_request_mails(town.digest_x, "each")
    ask(town.requester, town.room_x, "Theater AG")
    deliver(app, db)
    assert sorted(smtp.recipients()) == ["clara@example.org", "digest-x@example.org"]

    smtp.messages.clear()
    request_mails.set_request_mails(town.each_x, "digest")
    db.session.commit()
    run_digests(app)
    deliver(app, db)
    # The first summary holds every waiting request.
    assert [m["Subject"] for m in smtp.to("each-x@example.org")] == ["1 new booking request"]
    assert smtp.recipients() == ["each-x@example.org"]
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "request_mails_changed", AuditEvent.user_id == town.each_x.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.details) for e in events] == [
        (town.each_x.id, {"previous": "each", "value": "none"}),
        (town.each_x.id, {"previous": "none", "value": "digest"}),
    ]


def test_only_managers_choose_and_only_known_choices(db, town):
    with pytest.raises(NotPermitted):
        request_mails.set_request_mails(town.requester, "digest")
    with pytest.raises(InvalidRequest) as refused:
        request_mails.set_request_mails(town.each_x, "weekly")
    assert refused.value.field == "request_mails"
    assert db.session.get(User, town.each_x.id).request_mails is RequestMails.EACH


def test_partial_approval_names_approved_and_other_dates(app, db, smtp, town):
    booking = ask(town.requester, town.room_x, "Chorprobe", count=3, organisation=town.choir)
    first, second, third = booking.occurrences
    decline(town.each_x, booking.id, "Die Aula wird renoviert.", [first.id])
    approve(town.each_x, booking.id, [second.id], "Schlüssel beim Hausmeister.")
    deliver(app, db)

    _received, declined, approved = smtp.to("clara@example.org")
    assert declined["Subject"] == "Booking declined: Chorprobe"
    assert approved["Subject"] == "Booking partly approved: Chorprobe"
    text = body(approved)
    approved_part, _, others = text.partition("Not approved:")
    assert "Approved:" in approved_part
    assert f"{line(second)}: approved (Reason: Schlüssel beim Hausmeister.)" in approved_part
    assert line(first) not in approved_part and line(third) not in approved_part
    assert f"{line(first)}: declined (Reason: Die Aula wird renoviert.)" in others
    assert f"{line(third)}: waiting for approval" in others
    assert line(second) not in others

    # Approving the rest: a plain approval with only that date.
    smtp.messages.clear()
    approve(town.each_x, booking.id, [third.id])
    deliver(app, db)
    [message] = smtp.to("clara@example.org")
    assert message["Subject"] == "Booking partly approved: Chorprobe"  # the first stays declined
    assert "Not approved:" in body(message)


def test_full_approval_has_no_other_dates(app, db, smtp, town):
    booking = ask(town.requester, town.room_x, "Chorprobe", count=2)
    approve(town.each_x, booking.id)
    deliver(app, db)
    [_, message] = smtp.to("clara@example.org")
    assert message["Subject"] == "Booking approved: Chorprobe"
    text = body(message)
    assert text.count(": approved") == 2
    assert "Not approved:" not in text


def test_cancellation_and_move_by_the_manager_are_mailed_with_the_reason(app, db, smtp, town):
    booking = ask(town.requester, town.room_x, "Chorprobe", count=2)
    approve(town.each_x, booking.id)
    first, second = booking.occurrences
    cancel(town.each_x, booking.id, [first.id], "Wasserschaden in der Aula.")
    new_start = datetime.combine(day(18), time(19, 0))
    move_occurrence(
        town.each_x,
        second.id,
        new_start,
        new_start + timedelta(hours=2),
        reason="Die Aula ist dienstags belegt.",
        now=datetime.now(UTC),
    )
    deliver(app, db)
    subjects = [m["Subject"] for m in smtp.to("clara@example.org")]
    assert subjects == [
        "Booking request received: Chorprobe",
        "Booking approved: Chorprobe",
        "Booking cancelled: Chorprobe",
        "Booking moved: Chorprobe",
    ]
    cancelled, moved = smtp.to("clara@example.org")[2:]
    assert "cancelled (Reason: Wasserschaden in der Aula.)" in body(cancelled)
    assert "Reason: Die Aula ist dienstags belegt." in body(moved)
    assert f"{line(second, '19:00–21:00')}, Aula: approved" in body(moved)
    assert "before:" in body(moved)
