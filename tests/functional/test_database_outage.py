"""The database goes away under load: clients get 503 with Retry-After, never a 500 or a hang.

A TCP proxy sits between gunicorn's workers and PostgreSQL. Stopping it is an outage the
workers notice at once (connections reset, new ones refused); freezing it (connections accepted,
nothing forwarded) is the nastier kind, where only the workers' own timeouts help. Either way
every request is answered within the configured limits, and once the proxy is back the app
serves again without a restart. PostgreSQL only: SQLite is a file, it has no network to lose
(its "database is locked" is covered in tests/integration/test_database_retries.py).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.engine import make_url

from booking.api.tokens import create_token
from booking.models import Booking, Occurrence
from tests.conftest import free_port
from tests.functional.served import call, gunicorn

CONNECT_TIMEOUT = 2
STATEMENT_TIMEOUT = 3
# The slowest honest answer: a frozen pooled connection is given up after the statement timeout
# plus the client's margin (2 s), then a new connection times out (the connect timeout); a
# second request may queue behind that in the same worker.
ANSWER_WITHIN = 2 * (STATEMENT_TIMEOUT + 2 + CONNECT_TIMEOUT) + 3


class Proxy:
    """A TCP proxy that can be stopped (connections closed, port closed) or frozen (connections
    accepted and kept, nothing forwarded either way)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.frozen = threading.Event()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Close the port and every connection through it."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave the
            # port listening until that accept() returned.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            with self._lock:
                self._sockets.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        while self.frozen.is_set():  # accepted, but the database never hears of it
            time.sleep(0.05)
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        with self._lock:
            self._sockets.append(upstream)
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        self._pump(upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                if self.frozen.is_set():
                    time.sleep(0.05)
                    continue
                ready, _, _ = select.select([source], [], [], 0.1)
                if not ready:
                    continue
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except (OSError, ValueError):
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def outage_world(db, database_url, make_room, make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a network outage needs a database server (PostgreSQL)")
    room = make_room()
    _token, plain = create_token(make_user(), "outage")
    db.session.commit()
    url = make_url(database_url)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port)
    try:
        with gunicorn(
            through_proxy.render_as_string(hide_password=False),
            workers=2,
            DATABASE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
            DATABASE_STATEMENT_TIMEOUT=str(STATEMENT_TIMEOUT),
            DATABASE_RETRY_AFTER="7",
        ) as port:
            yield {
                "port": port,
                "proxy": proxy,
                "room_id": room.id,
                "site_id": room.site_id,
                "headers": {"Authorization": f"Bearer {plain}"},
            }
    finally:
        proxy.frozen.clear()
        proxy.stop()


def _booking_body(room_id: int, day: int) -> dict:
    start = datetime.combine(date.today() + timedelta(days=day), clock_time(18))
    return {
        "room_id": room_id,
        "title": f"Probe {day}",
        "start": start.isoformat(timespec="minutes"),
        "end": (start + timedelta(hours=1)).isoformat(timespec="minutes"),
        "recurrence": {"freq": "daily", "count": 3},
        "house_rules_accepted": True,
    }


class Requests:
    """The requests of one phase, what came back and how long each took."""

    def __init__(self, world: dict) -> None:
        self.world = world
        self.days = iter(range(10, 400, 3))
        self.answers: list[tuple[str, object, float]] = []

    def page(self):
        return call(self.world["port"], "GET", "/", headers={"Accept-Language": "de"})

    def api(self):
        path = f"/api/v1/rooms/{self.world['room_id']}"
        return call(self.world["port"], "GET", path, headers=self.world["headers"])

    def feed(self):
        return call(self.world["port"], "GET", f"/ical/sites/{self.world['site_id']}.ics")

    def book(self):
        body = _booking_body(self.world["room_id"], next(self.days))
        return call(
            self.world["port"], "POST", "/api/v1/bookings", body=body, headers=self.world["headers"]
        )

    def run(self, *kinds: str) -> list:
        """Send one request of each kind at the same time; their answers, in order."""
        results: list = [None] * len(kinds)

        def one(i: int, kind: str) -> None:
            started = time.monotonic()
            try:
                results[i] = getattr(self, kind)()
            except Exception as exc:  # a dropped connection is an answer worth seeing
                results[i] = exc
            self.answers.append((kind, results[i], time.monotonic() - started))

        threads = [threading.Thread(target=one, args=(i, k)) for i, k in enumerate(kinds)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return results


def _assert_unavailable(kind: str, answer) -> None:
    assert getattr(answer, "status", answer) == 503, (kind, answer)
    assert answer.headers["retry-after"] == "7"
    if kind == "page":
        assert answer.headers["content-type"].startswith("text/html")
        assert 'class="kern-alert' in answer.body
    elif kind == "feed":
        assert answer.headers["content-type"].startswith("text/plain")
    else:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "database_unavailable"


def _wait_until_served(requests: Requests) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if [getattr(a, "status", a) for a in requests.run("page", "api")] == [200, 200]:
            return
        time.sleep(0.5)
    pytest.fail("the app did not recover after the database came back")


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_database_outage_is_503_then_recovers(outage_world, outage, db):
    proxy: Proxy = outage_world["proxy"]
    requests = Requests(outage_world)
    kinds = ("page", "api", "feed", "book")

    before = requests.run(*kinds)
    assert [getattr(a, "status", a) for a in before] == [200, 200, 200, 201]

    if outage == "stopped":
        proxy.stop()
    else:
        proxy.frozen.set()
    for _round in range(2):  # under load: every worker busy, more requests waiting
        for kind, answer in zip(kinds * 2, requests.run(*kinds, *kinds), strict=True):
            _assert_unavailable(kind, answer)

    if outage == "stopped":
        proxy.start()
    else:
        proxy.frozen.clear()
    _wait_until_served(requests)
    after = requests.run(*kinds)
    assert [getattr(a, "status", a) for a in after] == [200, 200, 200, 201]

    slowest = max(seconds for _kind, _answer, seconds in requests.answers)
    assert slowest < ANSWER_WITHIN, requests.answers
    # Nothing half-written: every booking has its dates, and only the answered ones exist.
    made = sum(getattr(a, "status", None) == 201 for _k, a, _s in requests.answers)
    db.session.rollback()
    assert db.session.scalar(sql_select(func.count(Booking.id))) == made
    orphans = sql_select(func.count(Booking.id)).where(~Booking.occurrences.any())
    assert db.session.scalar(orphans) == 0
    assert db.session.scalar(sql_select(func.count(Occurrence.id))) == 3 * made
