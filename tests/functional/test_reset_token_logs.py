"""A password-reset (or invitation) link never reaches the access log in clear (#13): whoever
reads the log could set the account's password while the link is valid."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest

from booking.feeds.logs import mask_tokens

# The shape of booking.services.accounts' reset tokens (secrets.token_urlsafe(32)); fixed, so
# that every test worker collects the same test ids.
TOKEN = "pjU6NN6WM38uxvpKst781WwdT-MSW5XuWZEKMNyXuUs"


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (f'"GET /password-reset/{TOKEN} HTTP/1.1" 200', '"GET /password-reset/*** HTTP/1.1" 200'),
        (f"POST /password-reset/{TOKEN}?lang=en", "POST /password-reset/***?lang=en"),
        (
            f"Unhandled error on GET /password-reset/{TOKEN}",
            "Unhandled error on GET /password-reset/***",
        ),
        # A new registration's confirmation link holds the same kind of token.
        (f"GET /register/confirm/{TOKEN}?next=/", "GET /register/confirm/***?next=/"),
        # An invitation to join an organisation, also where a login's next= carries it.
        (f"POST /organisations/invitations/{TOKEN}", "POST /organisations/invitations/***"),
        (
            f"GET /login?next=%2Forganisations%2Finvitations%2F{TOKEN} HTTP/1.1",
            "GET /login?next=%2Forganisations%2Finvitations%2F*** HTTP/1.1",
        ),
        # The page that asks for a link has no token: nothing to hide.
        ('"POST /password-reset HTTP/1.1" 200', '"POST /password-reset HTTP/1.1" 200'),
    ],
)
def test_mask_reset_tokens(line, masked):
    assert mask_tokens(line) == masked


@pytest.fixture
def gunicorn_access_log(app, tmp_path):
    """Gunicorn's own logger class, writing its access log to a file, in the process where the
    app was created (as in a gunicorn worker, which imports ``wsgi:app``)."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    path = tmp_path / "access.log"
    config = Config()
    config.set("accesslog", str(path))
    logger = Logger(config)
    yield logger, path
    for name in ("gunicorn.access", "gunicorn.error"):
        for handler in logging.getLogger(name).handlers[:]:
            handler.close()
            logging.getLogger(name).removeHandler(handler)


def test_gunicorn_access_log_masks_the_reset_token(gunicorn_access_log):
    logger, path = gunicorn_access_log
    environ = {
        "REMOTE_ADDR": "192.0.2.7",
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/password-reset/{TOKEN}",
        "PATH_INFO": f"/password-reset/{TOKEN}",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        # An older page, or another proxy, may still have sent the link as Referer.
        "HTTP_REFERER": f"https://raumboerse.test/password-reset/{TOKEN}",
        "HTTP_USER_AGENT": "Firefox",
    }
    response = SimpleNamespace(status="302 FOUND", sent=0, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
    for handler in logging.getLogger("gunicorn.access").handlers:
        handler.flush()

    line = path.read_text()
    assert '"POST /password-reset/*** HTTP/1.1" 302' in line
    assert '"https://raumboerse.test/password-reset/***"' in line
    assert TOKEN not in line
