"""One place that turns errors into answers: problem+json under /api, HTML pages elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from booking.extensions import db
from booking.services.errors import Conflict, InvalidRequest, ServiceError

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://raumboerse.invalid/problems/"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    **extra: Any,
) -> Response:
    """An RFC 9457 problem document: machine-readable ``code``/``type`` plus human text."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
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


def service_error_problem(exc: ServiceError) -> Response:
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidRequest) and exc.field:
        extra["field"] = exc.field
        extra["errors"] = [{"field": exc.field, "message": exc.message}]
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
    return problem(exc.status, exc.code, exc.message, exc.message, **extra)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        db.session.rollback()  # nothing half-written survives a refused request
        if wants_json():
            return service_error_problem(exc)
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

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
        db.session.rollback()
        if wants_json():
            return problem(500, "internal_error", "Internal server error")
        return render_template("error.html", status=500, message=None), 500
