"""What a person typed survives an expired form and a login that ended in another tab.

Two ways a POST can fail before its view sees it, and what happens instead of losing the input:

- **The form expired** (the CSRF token is stale or the session is gone): ``booking/errors.py``
  calls :func:`replay_expired_form`. For a view marked :func:`keeps_input` it runs the view
  again *as a page view* (``submitted()`` is false, so nothing is written), with the posted
  values as the form's data: the same form comes back filled in, with a valid token and a short
  explanation, status 400. Other views keep the plain "form has expired" page.
- **Nobody is logged in** (the session ended, or a logout in another tab): Flask-Login's
  ``user_unauthorized`` signal calls :func:`stash_for_login`, which keeps the posted values of a
  marked view in the session for that path; the login redirect's ``next`` leads back to the
  path, and the page view takes them out again (:func:`form`), once.

Never kept: the CSRF token and anything that looks like a password. The session is a signed
cookie, so the kept values are limited in size; the longest values are left out first.

A view opts in like this::

    @bp.route("/things/new", methods=["GET", "POST"])
    @login_required
    @keep_input.keeps_input
    def new_thing():
        form = keep_input.form(ThingForm)
        if keep_input.submitted() and form.validate_on_submit():
            ...
        return render_template(...)
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, flash, g, has_request_context, request, session
from flask_babel import gettext as _
from flask_login.signals import user_unauthorized
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

SESSION_KEY = "kept_input"
# Compressed bytes of kept values: with the rest of the session well under a cookie's 4 KB.
MAX_KEPT_BYTES = 2000

F = TypeVar("F", bound=Callable[..., Any])
FormT = TypeVar("FormT", bound=FlaskForm)


def keeps_input(view: F) -> F:
    """Mark a GET-and-POST view whose form comes back filled in (see the module's text)."""
    view.keeps_input = True  # type: ignore[attr-defined]  # copied by functools.wraps
    return view


def _marked() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    rule = request.url_rule
    return bool(
        getattr(view, "keeps_input", False) and rule is not None and "GET" in (rule.methods or ())
    )


def _never_kept(name: str) -> bool:
    lowered = name.lower()
    return lowered == "csrf_token" or "password" in lowered or lowered.endswith("confirm")


def _posted() -> MultiDict:
    return MultiDict(
        [(name, value) for name, value in request.form.items(multi=True) if not _never_kept(name)]
    )


def replaying() -> bool:
    """True while an expired form's view runs again to show the form."""
    return bool(g.get("kept_input_replay"))


def submitted() -> bool:
    """Whether the view should act on the request: a POST, and not an expired form's replay."""
    return request.method == "POST" and not replaying()


def replay_expired_form():
    """The filled-in form again (status 400) for an expired POST to a marked view, else None."""
    if request.method != "POST" or not _marked():
        return None
    g.kept_input_replay = True
    g.kept_input = _posted()
    g.kept_input_reason = "expired"
    view = current_app.view_functions[request.endpoint]
    try:
        response = current_app.make_response(current_app.ensure_sync(view)(**request.view_args))
    except HTTPException:
        return None  # the page itself is gone (or not allowed): the plain answer will do
    if not 300 <= response.status_code < 400:  # a redirect is the login that comes first
        response.status_code = 400  # the form was not sent; the page shows it again
    return response


def stash_for_login(sender: Flask, **_extra) -> None:
    """Keep a logged-out POST's values until the login leads back to the same path."""
    if request.method != "POST" or not _marked():
        return
    pairs = _fit(list(_posted().items(multi=True)))
    session[SESSION_KEY] = {"path": request.path, "form": pairs}


def _fit(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Leave out the longest values until the rest fits into the session cookie."""
    pairs = list(pairs)
    while pairs and len(zlib.compress(json.dumps(pairs).encode())) > MAX_KEPT_BYTES:
        longest = max(range(len(pairs)), key=lambda i: len(pairs[i][1]))
        del pairs[longest]
    return pairs


def kept() -> MultiDict | None:
    """The kept values for this page (an expired form's, or those kept over a login), once."""
    if not has_request_context():
        return None
    if "kept_input" in g:
        return g.kept_input
    stored = session.get(SESSION_KEY)
    if request.method == "GET" and stored and stored.get("path") == request.path:
        session.pop(SESSION_KEY, None)
        g.kept_input = MultiDict([tuple(pair) for pair in stored.get("form", [])])
        g.kept_input_reason = "login"
        return g.kept_input
    return None


def form(form_class: type[FormT], **kwargs) -> FormT:
    """``form_class(**kwargs)``, filled with kept values where there are some, with a short
    explanation: in its ``form_errors`` after an expired form, as a message after a login."""
    values = kept()
    if values is None:
        return form_class(**kwargs)
    filled = form_class(formdata=values, **kwargs)
    if replaying():
        filled.form_errors.append(note())  # the form was refused: said above the form
    else:
        flash(note(), "info")  # back after a login: nothing went wrong with the form
    return filled


def note() -> str:
    if g.get("kept_input_reason") == "expired":
        # The first sentence is the one the plain "expired" page has always said.
        return " ".join(
            (
                _("The form has expired. Please try again."),
                _("Nothing was sent. What you typed is still here: check it and send it again."),
            )
        )
    return _("What you typed before logging in is still here: check it and send it again.")


def init_app(app: Flask) -> None:
    user_unauthorized.connect(stash_for_login, app)
