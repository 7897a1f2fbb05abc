"""The ``accounts`` blueprint: register, log in and out, reset a password, the profile page with
its API tokens, and the about page; and the Flask-Login settings these pages rely on."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("accounts", __name__)


def init_login(app: Flask) -> None:
    """Flask-Login's settings: who the session's user is and where a login is asked for."""
    from flask_babel import lazy_gettext

    manager = app.login_manager
    manager.user_loader(_load_user)
    manager.request_loader(_load_user_from_remember_cookie)
    app.after_request(_update_remember_cookie)
    manager.login_view = "accounts.login"
    manager.login_message = lazy_gettext("Please log in to see this page.")
    manager.login_message_category = "info"
    # "basic", not "strong": phones change IP address all the time, and "strong" would then
    # throw away the session and the remember-me login. A changed client only loses freshness.
    manager.session_protection = "basic"
    # A form sent while logged out is kept for the page the login leads back to.
    from booking.web import keep_input

    keep_input.init_app(app)


def _load_user(session_key: str):
    """The session's user, if its login has not ended (see ``services/login_sessions``)."""
    from booking.services import login_sessions

    return login_sessions.resolve(session_key)


REMEMBER_COOKIE = "raumboerse_login"


def _load_user_from_remember_cookie(request):
    """ "Stay logged in": no live session, but a remember-me cookie. A good token starts a new
    session and is replaced; the new cookie is set by ``_update_remember_cookie`` once the
    request's work is committed."""
    from flask import g, session

    from booking.services import login_sessions

    token = request.cookies.get(REMEMBER_COOKIE)
    if not token:
        return None
    resumed = login_sessions.resume(token)
    if resumed is None:
        g.remember_cookie = None  # unknown, expired or ended: delete it
        return None
    if resumed.started is not None:
        session["_user_id"] = resumed.started.session_key
        session["_fresh"] = False
        g.remember_cookie = resumed.started.remember_token
    return resumed.user


def set_remember_cookie(token: str | None) -> None:
    """Have this response set (or, with None, delete) the remember-me cookie."""
    from flask import g

    g.remember_cookie = token


def _update_remember_cookie(response):
    from flask import current_app, g

    if "remember_cookie" not in g or response.status_code >= 400:
        # A 4xx/5xx answer rolls the request's work back: the stored token did not change.
        return response
    config = current_app.config
    if g.remember_cookie is None:
        response.delete_cookie(REMEMBER_COOKIE, path="/")
    else:
        response.set_cookie(
            REMEMBER_COOKIE,
            g.remember_cookie,
            max_age=int(config["REMEMBER_COOKIE_DURATION"].total_seconds()),
            secure=config["REMEMBER_COOKIE_SECURE"],
            httponly=True,
            samesite=config["REMEMBER_COOKIE_SAMESITE"],
            path="/",
        )
    return response


from booking.web.accounts import (  # noqa: E402, F401  (routes)
    api_tokens,
    privacy,
    views,
)
