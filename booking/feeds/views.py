"""Feed endpoints: thin wrappers that answer conditional requests before building anything,
and send a body this process rendered before for the same ETag without building it again."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Response, current_app, render_template, request
from flask_login import current_user, login_required

from booking.feeds import bp, cache, calendar, service
from booking.feeds.service import Feed
from booking.links import base_url
from booking.models import utcnow

CONTENT_TYPE = "text/calendar; charset=utf-8"
PUBLIC_CACHE = "public, no-cache"  # any cache may keep it, but must revalidate (cheap 304)
PRIVATE_CACHE = "private, no-cache"


def _host() -> str:
    return urlsplit(base_url()).hostname or request.host.split(":")[0]


def _not_modified(validators: service.Validators) -> bool:
    if request.if_none_match:
        # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since is then ignored.
        return request.if_none_match.contains(validators.etag)
    since = request.if_modified_since
    return since is not None and validators.last_modified <= since


def _answer(feed: Feed, *, cache_control: str, filename: str) -> Response:
    started = utcnow()
    config = current_app.config
    settings = (base_url(), config["FEED_TTL_SECONDS"], config["BOOKING_SITE_NAME"])
    validators = service.validators(feed, settings)
    if _not_modified(validators):
        response = Response(status=304)
    else:
        body = cache.get(validators.etag)
        if body is None:
            body = calendar.build(
                feed,
                service.event_rows(feed),
                host=_host(),
                base_url=base_url(),
                site_name=config["BOOKING_SITE_NAME"],
                ttl_seconds=config["FEED_TTL_SECONDS"],
                today=service.clock().date(),
            )
            cache.put(validators.etag, body)
        response = Response(body, content_type=CONTENT_TYPE)
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.set_etag(validators.etag)
    response.last_modified = validators.header_last_modified(started)
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _lang() -> str:
    return service.check_lang(request.args.get("lang"))


@bp.get("/ical/rooms/<int:room_id>.ics")
def room(room_id: int):
    feed = service.room_feed(room_id, _lang(), current_app.config)
    return _answer(feed, cache_control=PUBLIC_CACHE, filename=f"room-{room_id}.ics")


@bp.get("/ical/sites/<int:site_id>.ics")
def site(site_id: int):
    feed = service.site_feed(site_id, _lang(), current_app.config)
    return _answer(feed, cache_control=PUBLIC_CACHE, filename=f"site-{site_id}.ics")


@bp.get("/ical/public.ics")
def public():
    feed = service.public_feed(request.args.get("district"), _lang(), current_app.config)
    return _answer(feed, cache_control=PUBLIC_CACHE, filename="public.ics")


@bp.get("/offers/<int:booking_id>.ics")
def offer(booking_id: int):
    """An open offer's upcoming dates, to subscribe to or import (linked from its page)."""
    feed = service.offer_feed(booking_id, _lang(), current_app.config)
    return _answer(feed, cache_control=PUBLIC_CACHE, filename=f"offer-{booking_id}.ics")


@bp.get("/ical/feed/<token>.ics")
def personal(token: str):
    feed = service.personal_feed(token, request.args.get("lang"), current_app.config)
    response = _answer(feed, cache_control=PRIVATE_CACHE, filename="raumboerse.ics")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/bookings/<int:booking_id>.ics")
def booking(booking_id: int):
    feed = service.booking_feed(current_user, booking_id, request.args.get("lang"))
    response = _answer(feed, cache_control=PRIVATE_CACHE, filename=f"booking-{booking_id}.ics")
    response.headers["Content-Disposition"] = f'attachment; filename="booking-{booking_id}.ics"'
    return response


def feed_url(token: str) -> tuple[str, str]:
    """The personal feed as https:// and webcal:// URLs."""
    https = f"{base_url()}/ical/feed/{token}.ics"
    return https, "webcal://" + https.split("://", 1)[1]


@bp.post("/profile/feed-token")
@login_required
def regenerate_token():
    token = service.issue_token(current_user)
    https, webcal = feed_url(token)
    response = Response(
        render_template("feeds/token_created.html", new_feed_url=https, new_feed_webcal=webcal)
    )
    # The plain token exists only in this answer: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.app_template_global()
def feed_links(kind: str, object_id: int) -> dict[str, str]:
    """``https://`` and ``webcal://`` URLs of a room's or site's feed, for templates."""
    path = f"/ical/{kind}s/{object_id}.ics"
    https = f"{base_url()}{path}"
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


@bp.app_template_global()
def personal_feed_token(user) -> datetime | None:
    """When the user's current personal feed link was created (None: there is none)."""
    row = service.current_token(user)
    return row.created_at if row is not None else None
