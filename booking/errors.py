"""One place that turns errors into answers: problem+json under /api, HTML pages elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
                "local_start": d.local_start.isoformat(),
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


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        discard()  # nothing half-written survives a refused request
        if wants_json():
            return service_error_problem(exc)
        return render_template("error.html", status=exc.status, message=error_text(exc)), exc.status

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
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
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
        return render_template("error.html", status=exc.code, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        discard()
        if wants_json():
            return problem(500, "internal_error", "Internal server error")
        return render_template("error.html", status=500, message=None), 500
