"""HTTP behaviour for pollers: validators, 304s, 404s, tokens, and what reaches the logs."""

from __future__ import annotations

import logging
import re
import threading
import urllib.request
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from booking.feeds import calendar as feed_calendar
from booking.feeds import service
from booking.feeds.logs import mask_tokens
from booking.models import Booking, FeedChange, FeedToken, Occurrence, utcnow
from booking.services import bookings as services
from feeds.readers import all_readers

BERLIN = ZoneInfo("Europe/Berlin")
FEEDS = ("room", "site", "public", "personal", "booking")


@pytest.fixture
def real_clock(monkeypatch):
    """If-Modified-Since compares with real commit times, so the feed window follows them."""
    monkeypatch.setattr(service, "clock", utcnow)
    return utcnow()


@pytest.fixture
def scene(db, real_clock, make_site, make_room, make_organisation, make_user, make_booking):
    site = make_site(name="Stadtbücherei")
    room = make_room(site, name="Lesesaal")
    other = make_room(site, name="Studio")
    organisation = make_organisation(name="Lesekreis")
    member = make_user(organisations=[organisation])
    soon = (real_clock + timedelta(days=10)).astimezone(BERLIN).replace(tzinfo=None)
    evening = soon.replace(hour=18, minute=0, second=0, microsecond=0)
    first = make_booking(
        member,
        room,
        evening,
        now=real_clock,
        title="Lesung",
        is_public=True,
        organisation_id=organisation.id,
    )
    second = make_booking(
        member,
        other,
        evening + timedelta(days=1),
        now=real_clock,
        title="Schreibwerkstatt",
        is_public=True,
        organisation_id=organisation.id,
    )
    token = service.issue_token(member)
    db.session.commit()
    return {
        "site": site,
        "room": room,
        "other": other,
        "member": member,
        "first": first,
        "second": second,
        "token": token,
    }


def _urls(scene) -> dict[str, str]:
    return {
        "room": f"/ical/rooms/{scene['room'].id}.ics",
        "site": f"/ical/sites/{scene['site'].id}.ics",
        "public": "/ical/public.ics",
        "personal": f"/ical/feed/{scene['token']}.ics",
        "booking": f"/bookings/{scene['first'].id}.ics",
    }


def _age_everything(db, hours: int = 1) -> None:
    """Pretend the data was written an hour ago (bulk updates write no feed change of their own)."""
    past = utcnow() - timedelta(hours=hours)
    db.session.execute(update(FeedChange).values(changed_at=past))
    db.session.execute(update(Occurrence).values(updated_at=past))
    db.session.execute(update(Booking).values(updated_at=past))
    db.session.commit()


def test_every_feed_has_validators_type_and_cache_policy(client, scene, login_as):
    login_as(scene["member"])
    for kind, url in _urls(scene).items():
        response = client.get(url)
        assert response.status_code == 200, kind
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert re.fullmatch(r'"[0-9a-f]{40}"', response.headers["ETag"]), kind
        modified = parsedate_to_datetime(response.headers["Last-Modified"])
        assert modified <= utcnow()
        cache = response.headers["Cache-Control"]
        if kind in ("personal", "booking"):
            assert cache.startswith("private")
        else:
            assert cache.startswith("public")
        assert "no-cache" in cache
        all_readers(response.data)


def test_if_none_match_answers_304_without_building_the_calendar(
    client, scene, login_as, monkeypatch
):
    login_as(scene["member"])
    etags = {kind: client.get(url).headers["ETag"] for kind, url in _urls(scene).items()}
    for url in _urls(scene).values():
        assert client.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200

    def forbidden(*args, **kwargs):
        raise AssertionError("the calendar was built for a conditional request")

    monkeypatch.setattr(feed_calendar, "build", forbidden)
    monkeypatch.setattr(service, "event_rows", forbidden)
    for kind, url in _urls(scene).items():
        response = client.get(url, headers={"If-None-Match": etags[kind]})
        assert response.status_code == 304, kind
        assert response.data == b""
        assert response.headers["ETag"] == etags[kind]
        assert response.headers["Cache-Control"].endswith("no-cache")


def test_a_change_to_any_booking_in_the_feed_changes_the_etag(client, db, scene, login_as):
    login_as(scene["member"])
    urls = _urls(scene)
    before = {kind: client.get(url).headers["ETag"] for kind, url in urls.items()}
    booking = db.session.get(Booking, scene["first"].id)
    booking.title = "Lesung mit Musik"
    db.session.commit()
    after = {kind: client.get(url).headers["ETag"] for kind, url in urls.items()}
    for kind in ("room", "site", "public", "personal", "booking"):
        assert after[kind] != before[kind], kind


def test_if_modified_since_is_304_only_when_nothing_changed(client, db, scene):
    _age_everything(db)
    url = _urls(scene)["room"]
    first = client.get(url)
    modified = first.headers["Last-Modified"]
    # The feed's window moves on at midnight (UTC), which counts as a change of the feed:
    # in the first hour of a day the header is that midnight, otherwise an hour ago.
    now = utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert parsedate_to_datetime(modified) <= max(now - timedelta(minutes=59), midnight)
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304

    services.cancel(scene["member"], scene["first"].id, now=utcnow())
    db.session.commit()
    again = client.get(url, headers={"If-Modified-Since": modified})
    assert again.status_code == 200
    assert parsedate_to_datetime(again.headers["Last-Modified"]) > parsedate_to_datetime(modified)
    assert all_readers(again.data) == {}  # the cancelled date left the public room feed


def test_if_modified_since_never_304_right_after_a_change_in_the_same_second(client, db, scene):
    """A response built just before a change must not let the next poll get a 304."""
    url = _urls(scene)["site"]
    for _ in range(5):
        response = client.get(url)
        modified = response.headers["Last-Modified"]
        booking = db.session.get(Booking, scene["second"].id)
        booking.description = f"{booking.description}."
        db.session.commit()
        assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 200


def test_last_modified_never_moves_backwards_after_a_deletion(client, db, scene):
    _age_everything(db, hours=2)
    site_url, public_url = _urls(scene)["site"], "/ical/public.ics"
    # The newest booking of the feed changed an hour ago; it is then deleted outright.
    newest = db.session.get(Booking, scene["second"].id)
    newest.title = "Schreibwerkstatt (neu)"
    db.session.commit()
    past = utcnow() - timedelta(hours=1)
    db.session.execute(
        update(FeedChange).where(FeedChange.changed_at > past).values(changed_at=past)
    )
    db.session.execute(update(Booking).where(Booking.id == newest.id).values(updated_at=past))
    db.session.commit()

    before = {u: client.get(u) for u in (site_url, public_url)}
    db.session.delete(db.session.get(Booking, scene["second"].id))
    db.session.commit()
    for url, response in before.items():
        after = client.get(url)
        old = parsedate_to_datetime(response.headers["Last-Modified"])
        assert parsedate_to_datetime(after.headers["Last-Modified"]) >= old, url
        assert after.headers["ETag"] != response.headers["ETag"], url
        conditional = client.get(url, headers={"If-Modified-Since": format_datetime(old, True)})
        assert conditional.status_code == 200, url
        assert "Schreibwerkstatt" not in conditional.data.decode()


def test_deleting_a_room_moves_the_site_feed_on(client, db, scene):
    _age_everything(db)
    url = _urls(scene)["site"]
    before = client.get(url)
    db.session.delete(db.session.get(type(scene["other"]), scene["other"].id))
    db.session.commit()
    after = client.get(url, headers={"If-Modified-Since": before.headers["Last-Modified"]})
    assert after.status_code == 200
    assert parsedate_to_datetime(after.headers["Last-Modified"]) > parsedate_to_datetime(
        before.headers["Last-Modified"]
    )
    assert [e["summary"] for e in all_readers(after.data).values()] == ["Lesung"]


def test_unknown_room_site_or_token_is_a_plain_404(client, db, scene, make_room):
    hidden = make_room(scene["site"], active=False)
    db.session.commit()
    bodies = set()
    for url in (
        "/ical/rooms/999999.ics",
        f"/ical/rooms/{hidden.id}.ics",
        "/ical/sites/999999.ics",
        "/ical/feed/not-a-token.ics",
        f"/ical/feed/{scene['token'][:-1]}x.ics",
        "/ical/feed/%E2%9C%93.ics",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        # The page's language switch leads back to the page itself; the rest is identical.
        bodies.add(re.sub(r'name="next" value="[^"]*"', "", response.data.decode()))
    assert len(bodies) == 1  # the same answer whether it never existed or is hidden


def test_bad_parameters_are_specific_errors(client, scene):
    response = client.get(f"/ical/rooms/{scene['room'].id}.ics?lang=fr")
    assert response.status_code == 422
    assert "de" in response.data.decode()
    assert client.get("/ical/public.ics?district=" + "x" * 101).status_code == 422


def test_regenerating_the_token_revokes_the_old_url(client, db, scene, login_as):
    assert client.post("/profile/feed-token").status_code in (302, 401)
    assert db.session.scalar(db.select(db.func.count(FeedToken.id))) == 1

    login_as(scene["member"])
    page = client.get("/profile")
    assert page.status_code == 200
    assert 'action="/profile/feed-token"' in page.data.decode()

    created = client.post("/profile/feed-token")
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    html = created.data.decode()
    match = re.search(r'value="webcal://raumboerse\.test/ical/feed/([A-Za-z0-9_-]{43})\.ics"', html)
    assert match, html
    new_token = match.group(1)
    stored = db.session.scalar(db.select(FeedToken.token_hash))
    assert new_token not in stored  # only the hash is kept

    assert client.get(f"/ical/feed/{scene['token']}.ics").status_code == 404
    assert client.get(f"/ical/feed/{new_token}.ics").status_code == 200
    again = re.search(
        r"ical/feed/([A-Za-z0-9_-]{43})\.ics", client.post("/profile/feed-token").data.decode()
    )
    assert again and again.group(1) != new_token
    assert client.get(f"/ical/feed/{new_token}.ics").status_code == 404
    assert client.get(f"/ical/feed/{again.group(1)}.ics").status_code == 200
    # The profile page afterwards says a link exists but cannot show it.
    profile = client.get("/profile").data.decode()
    assert again.group(1) not in profile


def test_room_and_site_pages_link_to_their_feeds(client, scene):
    room, site = scene["room"], scene["site"]
    room_page = client.get(f"/rooms/{room.id}").data.decode()
    assert f'href="webcal://raumboerse.test/ical/rooms/{room.id}.ics"' in room_page
    assert f'href="http://raumboerse.test/ical/rooms/{room.id}.ics"' in room_page
    site_page = client.get(f"/sites/{site.id}").data.decode()
    assert f'href="webcal://raumboerse.test/ical/sites/{site.id}.ics"' in site_page


def test_mask_tokens_in_log_lines():
    line = (
        '127.0.0.1 - - [25/Nov/2026 17:00:00] "GET /ical/feed/Ab_c-12.ics?lang=en HTTP/1.1" 200 -'
    )
    assert mask_tokens(line) == (
        '127.0.0.1 - - [25/Nov/2026 17:00:00] "GET /ical/feed/***.ics?lang=en HTTP/1.1" 200 -'
    )
    assert mask_tokens("GET /ical/rooms/3.ics") == "GET /ical/rooms/3.ics"


def test_the_token_never_reaches_the_request_log(app, scene, caplog):
    """Through werkzeug's real server and its real request log line."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        caplog.set_level(logging.INFO, logger="werkzeug")
        url = f"http://127.0.0.1:{server.server_port}/ical/feed/{scene['token']}.ics"
        request = urllib.request.Request(url, headers={"Host": "raumboerse.test"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            response.read()
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    text = caplog.text
    assert "/ical/feed/***.ics" in text
    assert scene["token"] not in text


def test_the_token_never_reaches_the_error_log(client, scene, caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("calendar broke")

    monkeypatch.setattr(feed_calendar, "build", broken)
    caplog.set_level(logging.INFO)
    response = client.get(f"/ical/feed/{scene['token']}.ics")
    assert response.status_code == 500
    assert "Unhandled error on GET /ical/feed/***.ics" in caplog.text
    assert scene["token"] not in caplog.text


def _count_builds(monkeypatch) -> list[int]:
    built: list[int] = []
    build = feed_calendar.build

    def counting(*args, **kwargs):
        built.append(1)
        return build(*args, **kwargs)

    monkeypatch.setattr(feed_calendar, "build", counting)
    return built


def test_a_poll_without_validators_gets_the_same_bytes_without_rebuilding(
    client, scene, monkeypatch
):
    """Google Calendar polls without If-None-Match: the body this process rendered is resent."""
    url = _urls(scene)["room"]
    first = client.get(url)

    def forbidden(*args, **kwargs):
        raise AssertionError("the calendar was built again although nothing changed")

    monkeypatch.setattr(feed_calendar, "build", forbidden)
    monkeypatch.setattr(service, "event_rows", forbidden)
    second = client.get(url)
    assert second.status_code == 200
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Type"] == "text/calendar; charset=utf-8"


def test_a_change_gives_a_new_etag_and_a_new_body(client, db, scene, login_as):
    login_as(scene["member"])
    urls = _urls(scene)
    before = {kind: client.get(url) for kind, url in urls.items()}
    booking = db.session.get(Booking, scene["first"].id)
    booking.title = "Lesung mit Musik"
    db.session.commit()
    for kind, url in urls.items():
        after = client.get(url)
        assert after.headers["ETag"] != before[kind].headers["ETag"], kind
        summaries = {e["summary"] for e in all_readers(after.data).values()}
        assert "Lesung mit Musik" in summaries, kind
        assert "Lesung" not in summaries, kind


def test_with_feed_cache_bytes_0_every_request_builds_the_calendar(app, client, scene, monkeypatch):
    monkeypatch.setitem(app.config, "FEED_CACHE_BYTES", 0)
    built = _count_builds(monkeypatch)
    url = _urls(scene)["site"]
    first, second = client.get(url), client.get(url)
    assert len(built) == 2
    assert first.data == second.data  # and an unchanged feed is byte-identical anyway


def test_the_cache_keeps_at_most_feed_cache_bytes_and_drops_the_least_recently_used(
    app, client, scene, monkeypatch
):
    from booking.feeds import cache

    urls = [_urls(scene)[kind] for kind in ("room", "site", "public")]
    sizes = [len(client.get(url).data) for url in urls]
    room, site, public = urls
    # Room for any two of the three bodies, not for all three.
    monkeypatch.setitem(app.config, "FEED_CACHE_BYTES", sum(sizes) - 1)
    cache.clear()
    built = _count_builds(monkeypatch)
    for url in (room, site, room):  # the site feed is now the least recently used
        client.get(url)
    assert len(built) == 2
    client.get(public)  # makes way: the site feed's body goes
    assert len(built) == 3
    client.get(room)
    assert len(built) == 3
    client.get(site)
    assert len(built) == 4
    # A body larger than the whole cache is sent but not kept.
    monkeypatch.setitem(app.config, "FEED_CACHE_BYTES", min(sizes) - 1)
    cache.clear()
    first, second = client.get(room), client.get(room)
    assert len(built) == 6
    assert first.data == second.data
