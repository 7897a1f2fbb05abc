"""Keep the secrets in URLs out of the logs: personal feed tokens and account links' tokens.

The token is the only secret in a feed URL, and request logs (werkzeug's development server,
gunicorn's access log, our own error log with the request path) are read by more people than
should be able to read someone's calendar. The same holds for a password-reset link (the
invitation of a new account uses it too) and a registration's confirmation link: whoever reads
it can take over the account while it is valid. A filter masks the token in every record of
those loggers before any handler formats it (also in a logged Referer, though those pages ask
browsers to send only the origin: booking/web/security_headers.py).
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_PATH = re.compile(r"(/ical/feed/)[^/\s?#\"]+?(\.ics)?(?=[\s?#\"]|$)")
MASK = "***"

LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "booking.errors")


# /password-reset/<token> (GET shows the form, POST sets the password), the confirmation link
# of a new registration, /register/confirm/<token>, and an organisation's invitation,
# /organisations/invitations/<token>; /password-reset alone, the page that asks for a link, has
# no token. The same paths also travel URL-encoded in a ``next=`` (the login an invitation or a
# confirmation leads through), so "/" may be written "%2F".
_RESET_TOKEN_IN_PATH = re.compile(
    r"((?:/|%2F)(?:password-reset|register(?:/|%2F)confirm|organisations(?:/|%2F)invitations)"
    r"(?:/|%2F))[^/\s?#&\"%]+(?=[/\s?#&\"%]|$)",
    re.IGNORECASE,
)


def mask_tokens(text: str) -> str:
    text = _TOKEN_IN_PATH.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2) or ''}", text)
    return _RESET_TOKEN_IN_PATH.sub(lambda m: f"{m.group(1)}{MASK}", text)


class FeedTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = FeedTokenFilter()


def install_log_filter(app_logger: str) -> None:
    """Attach the filter to the request and error loggers, and to the app's own logger."""
    for name in (*LOGGERS, app_logger):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
