"""One unit of work per request or command: committed at the edge, never inside a view.

Services write and flush; the surface around them decides once whether the work stands:

- web pages, the JSON API and the feeds: ``init_app`` commits after a response below 400 (a page,
  a 201, a redirect after a successful POST) and rolls back after anything else (a form shown
  again with its errors, a problem document, an error page). A failing commit is an error like
  any other and its answer a 500 (the error handlers roll back again).
- command-line tools: ``command`` commits when the command returns and rolls back when it
  raises; a service error becomes click's usage error with the service's message.

A service that raises has written nothing that survives: the request's answer is then an error,
or the view shows the form again (4xx). Where a view answers a refused service call with a
redirect (a flash message after a POST), the service itself must leave nothing behind; the
booking services do (their writes sit in one savepoint, see ``services/occupancy.py``).

Outbox mail and audit rows are written by the services inside the same transaction, so they are
committed or discarded together with the change they describe.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response

from booking.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    app.after_request(_finish)


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
