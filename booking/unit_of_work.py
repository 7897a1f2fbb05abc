"""One unit of work per request or command: committed at the edge, never inside a view.

Services write and flush; the surface around them decides once whether the work stands:

- web pages, the JSON API and the feeds: ``init_app`` commits after a response below 400 (a page,
  a 201, a redirect after a successful POST) and rolls back after anything else (a form shown
  again with its errors, a problem document, an error page). The commit is made right after the
  view, where a failing one can still be repeated (contention, below) or answered like any other
  error: 503 when the database is unavailable, else 500 (the error handlers roll back again).
- command-line tools: ``command`` commits when the command returns and rolls back when it
  raises; a service error becomes click's usage error with the service's message.

A service that raises has written nothing that survives: the request's answer is then an error,
or the view shows the form again (4xx). Where a view answers a refused service call with a
redirect (a flash message after a POST), the service itself must leave nothing behind; the
booking services do (their writes sit in one savepoint, see ``services/occupancy.py``).

Outbox mail and audit rows are written by the services inside the same transaction, so they are
committed or discarded together with the change they describe.

Contention is retried, at the edge, as a whole request's work. A deadlock or serialisation failure
on PostgreSQL, or "database is locked" on SQLite, says nothing about the request: the same work a
moment later will most likely succeed (and a lost race then becomes the 409 it is). The database
has already thrown the transaction away, so the only safe thing to repeat is everything the
transaction held: the view, from its first read, in a fresh transaction. ``_dispatch_with_retries``
wraps the view call (after the before-request hooks: login, language, rate limit) and commits
there too, so a failing commit is repeated as well. Repeating is safe because, until the view
returns, no byte of the answer has been sent and every effect of the request's work is in the
transaction (mail goes to the outbox, audit rows alongside; nothing is committed earlier, which
``_committed_during_request`` checks rather than assumes). What lives outside the transaction is
put back before the next attempt: the flash messages and the session, what the view cached on
``g``, the read position of uploaded files. A service that writes files before the commit
(photos) writes them again; the unused copy is what a failed commit leaves anyway.

Retries are bounded (``DATABASE_RETRIES``, a short random pause between them so racers do not
collide again in step); then the error goes to the error handlers, which answer 503 with
Retry-After (``booking/errors.py``). Retrying only the service call would not be enough: the
commit fails outside it, and the request's earlier reads belong to the dead transaction too.
Retrying the whole WSGI request would be too much: its body may be a stream that is gone.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask.globals import request_ctx
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from booking.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs after which the same transaction, run again, can succeed.
RETRYABLE_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
}
# SQLite's primary result codes for "someone else holds the lock" (SQLITE_BUSY, SQLITE_LOCKED).
RETRYABLE_SQLITE_CODES = {5, 6}
PAUSE_SECONDS = (0.02, 0.2)  # the random pause before a repeat grows with each attempt


def init_app(app: Flask) -> None:
    app.after_request(_finish)
    # Flask calls ``self.dispatch_request()`` for the view: wrapping it on the instance puts the
    # retries around every view of this app and nothing else.
    dispatch = app.dispatch_request
    app.dispatch_request = functools.partial(_dispatch_with_retries, dispatch)  # type: ignore[method-assign]


def is_contention(exc: BaseException) -> bool:
    """A deadlock, serialisation failure or busy database: the same work may succeed again."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in RETRYABLE_SQLITE_CODES
    text = str(orig)
    return "database is locked" in text or "database table is locked" in text


def _dispatch_with_retries(dispatch: Callable[[], Any]) -> Any:
    retries = int(current_app.config.get("DATABASE_RETRIES", 3))
    saved_session = _SessionState()
    saved_g = set(g)
    g._commits_seen = 0
    attempt = 0
    while True:
        try:
            answer = dispatch()
            response = current_app.make_response(answer)
            if response.status_code < 400:
                db.session.commit()
            return response
        except DBAPIError as exc:
            if attempt >= retries or not is_contention(exc) or _committed_during_request():
                raise
            attempt += 1
            db.session.rollback()
            log.info(
                "Repeating %s %s after %s (attempt %d of %d)",
                request.method,
                request.path,
                type(exc.orig).__name__,
                attempt + 1,
                retries + 1,
            )
            _restore(saved_session, saved_g)
            time.sleep(random.uniform(*PAUSE_SECONDS) * attempt)  # noqa: S311 (not a secret)


def _committed_during_request() -> bool:
    return bool(g.get("_commits_seen"))


class _SessionState:
    """The session's contents and flags before the view, taken without touching it (reading it
    through ``flask.session`` would mark it accessed: the snapshot must not change the answer)."""

    def __init__(self) -> None:
        self.session = getattr(request_ctx._get_current_object(), "_session", None)
        if not isinstance(self.session, dict):
            self.session = None
            return
        self.contents = dict.copy(self.session)
        self.modified = getattr(self.session, "modified", True)
        self.accessed = getattr(self.session, "accessed", True)

    def restore(self) -> None:
        if self.session is None:  # a session interface we do not know: through the proxy
            session.pop("_flashes", None)
            return
        dict.clear(self.session)
        dict.update(self.session, self.contents)
        self.session.modified = self.modified
        self.session.accessed = self.accessed


def _restore(saved_session: _SessionState, saved_g: set[str]) -> None:
    """Put back what the failed attempt changed outside the database."""
    saved_session.restore()
    for name in set(g) - saved_g - {"_commits_seen"}:
        g.pop(name, None)
    for upload in request.files.values():
        with contextlib.suppress(AttributeError, OSError, ValueError):
            upload.stream.seek(0)


@event.listens_for(Session, "after_commit")
def _count_commit(session) -> None:
    from flask import has_app_context

    # A savepoint's release (a service's ``guarded`` block) is no commit: its work is still in
    # the transaction that a repeat starts afresh.
    if has_app_context() and "_commits_seen" in g and not session.in_nested_transaction():
        g._commits_seen += 1


def _finish(response: Response) -> Response:
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def discard() -> None:
    """Throw away what the request has written so far (the error handlers' first step)."""
    db.session.rollback()


def command(func: F) -> F:
    """Run a CLI command as one unit of work; a ``ServiceError`` becomes a ``ClickException``."""
    import click

    from booking.services.errors import ServiceError

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
        except ServiceError as exc:
            db.session.rollback()
            raise click.ClickException(exc.text) from None
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return wrapper  # type: ignore[return-value]
