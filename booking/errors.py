"""One place that turns errors into answers: problem+json under /api, HTML pages elsewhere."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timezone
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sqlalchemy_exc
from werkzeug.exceptions import HTTPException

from booking.extensions import login_manager
from booking.services.errors import Conflict, InvalidRequest, ServiceError
from booking.unit_of_work import discard

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://raumboerse.invalid/problems/"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    kind: str | None = None,
    **extra: Any,
) -> Response:
    """An RFC 9457 problem document: machine-readable ``code`` and ``type`` (the ``kind`` of
    problem, by default the code) plus human text."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (kind or code),
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def error_text(exc: ServiceError) -> str:
    """A service's message in the reader's language (its English text outside a request)."""
    return gettext(exc.message, **exc.params)


def _with_offset(local: datetime, moment: datetime) -> datetime:
    """``local``, a naive wall time, with the offset its zone had at ``moment``: an RFC 3339
    date-time a client can parse, that still reads as the site's clock."""
    return local.replace(tzinfo=timezone(local - moment.astimezone(UTC).replace(tzinfo=None)))


def service_error_problem(exc: ServiceError) -> Response:
    """The problem document of a refused service call: ``code`` is the error's stable code,
    ``type`` names its kind (``invalid``, ``conflict``, ...), ``detail`` the English text (or the
    core's technical explanation where there is one)."""
    extra: dict[str, Any] = {}
    text = exc.text
    if isinstance(exc, InvalidRequest) and exc.field:
        extra["field"] = exc.field
        extra["errors"] = [{"field": exc.field, "message": text}]
    if isinstance(exc, Conflict):
        extra["conflicts"] = [
            {
                "start": d.slot.starts_at.isoformat(),
                "end": d.slot.ends_at.isoformat(),
                "local_start": _with_offset(d.local_start, d.slot.starts_at).isoformat(),
                "reasons": [
                    {"reason": p.reason.value, "message": p.message, "label": p.label}
                    for p in d.problems
                ],
            }
            for d in exc.dates
            if d.problems
        ]
    detail = exc.params.get("detail") or text
    return problem(exc.status, exc.code, text, detail, kind=type(exc).code, **extra)


def _error_page(status: int, message: str | None):
    """The error page, or the outage page when drawing it needs the database and the database
    is gone (the menu loads a logged-in visitor: a query that would otherwise turn a 404 into a
    bare 500)."""
    try:
        return render_template("error.html", status=status, message=message), status
    except sqlalchemy_exc.SQLAlchemyError as exc:
        if not database_unavailable(exc):
            raise
        return unavailable_response(exc)


def register_error_handlers(app: Flask) -> None:
    register_outage_handlers(app)

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        discard()  # nothing half-written survives a refused request
        if wants_json():
            return service_error_problem(exc)
        return _error_page(exc.status, error_text(exc))

    @app.errorhandler(CSRFError)
    def _form_expired(exc: CSRFError):
        # The usual cause is a form left open past the session; say so in the user's language.
        if wants_json():
            return problem(400, "csrf_failed", "CSRF check failed", exc.description)
        from booking.web.keep_input import replay_expired_form

        # A form that keeps its input comes back filled in (booking/web/keep_input.py).
        refilled = replay_expired_form()
        if refilled is not None:
            return refilled
        message = gettext("The form has expired. Please go back, reload the page and try again.")
        return _error_page(400, message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 413:
            return _too_large()
        if wants_json():
            response = problem(
                exc.code or 500,
                (exc.name or "error").lower().replace(" ", "_"),
                exc.name,
                exc.description,
            )
            if exc.code == 405 and exc.valid_methods:
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            if exc.code == 429 and exc.response is not None:
                for header in ("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Reset"):
                    if header in exc.response.headers:
                        response.headers[header] = exc.response.headers[header]
            return response
        if exc.code == 429 and exc.response is not None:
            return exc.response
        return _error_page(exc.code or 500, exc.description)

    def _too_large():
        # Werkzeug refused the body (MAX_CONTENT_LENGTH, or MAX_FORM_MEMORY_SIZE for text
        # fields) before reading it: say what the limits are (the admin's upload forms have a
        # handler of their own naming each form's limit).
        if wants_json():
            return problem(413, "too_large", "The request body is too large.")
        message = gettext(
            "What you sent is too large: at most %(total)d MB in all (files included), and at "
            "most %(field)d KB in one text field. Please go back and choose a smaller file or "
            "shorten the text.",
            total=(app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024),
            field=(app.config.get("MAX_FORM_MEMORY_SIZE") or 0) // 1024,
        )
        return _error_page(413, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        discard()
        if wants_json():
            return problem(500, "internal_error", "Internal server error")
        return _error_page(500, None)


# PostgreSQL SQLSTATEs (or their class, the first two characters) that mean "not now", not "wrong":
# connection exceptions, the server shutting down or refusing connections, too many
# connections, a statement cancelled by the statement timeout, contention left after retries.
_UNAVAILABLE_SQLSTATE_CLASSES = {"08", "40"}
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300", "57014", "55P03"}
# SQLite: busy, locked, I/O error, cannot open the file.
_UNAVAILABLE_SQLITE_CODES = {5, 6, 10, 14}


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve us just now (rather than that our SQL or
    our data is wrong): then the honest answer is 503 and "try again later", not 500."""
    if isinstance(exc, (sqlalchemy_exc.TimeoutError, sqlalchemy_exc.InterfaceError)):
        return True  # no pooled connection free in time; a connection that is gone
    if not isinstance(exc, sqlalchemy_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES or sqlstate in _UNAVAILABLE_SQLSTATES
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _UNAVAILABLE_SQLITE_CODES
    # psycopg's own errors without a server answer: refused, timed out, closed, no answer.
    return isinstance(exc, sqlalchemy_exc.OperationalError)


def register_outage_handlers(app: Flask) -> None:
    """503 with Retry-After while the database is unreachable, stuck or overloaded.

    Every surface gets its own kind of answer: an HTML page (in the look of the other error
    pages), a problem document under /api/, a plain text for calendar feeds (calendar apps
    only look at the status; they try again on their own). The page is made without the
    database: the visitor is shown as logged out, whoever they are.
    """

    @app.errorhandler(sqlalchemy_exc.SQLAlchemyError)
    def _database_error(exc: sqlalchemy_exc.SQLAlchemyError):
        if not database_unavailable(exc):
            log.exception("Database error on %s %s", request.method, request.path)
            _discard_quietly()
            if wants_json():
                return problem(500, "internal_error", "Internal server error")
            return _error_page(500, None)
        return unavailable_response(exc)


def unavailable_response(exc: BaseException) -> Response:
    """503 with Retry-After, made without the database (see ``register_outage_handlers``)."""
    log.error(
        "Database unavailable on %s %s: %s",
        request.method,
        request.path,
        str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300],
    )
    _discard_quietly()
    # Flask-Login would load the user (a query) to draw the menu; show the page logged out.
    g._login_user = login_manager.anonymous_user()
    if wants_json():
        response = problem(
            503,
            "database_unavailable",
            "Service temporarily unavailable",
            "The database cannot be reached just now. Please try again later.",
        )
    elif request.path.endswith(".ics"):
        response = Response(
            "Service temporarily unavailable. Please try again later.\n",
            503,
            mimetype="text/plain",
        )
    else:
        response = Response(render_template("error_unavailable.html"), 503)
    response.headers["Retry-After"] = str(int(current_app.config.get("DATABASE_RETRY_AFTER") or 30))
    response.headers["Cache-Control"] = "no-store"
    return response


def _discard_quietly() -> None:
    """Roll back what there is; with the connection gone, there is nothing to roll back."""
    try:
        discard()
    except sqlalchemy_exc.SQLAlchemyError:
        log.debug("Rollback after a database error failed", exc_info=True)
