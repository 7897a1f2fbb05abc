"""Keep personal feed tokens out of the logs.

The token is the only secret in a feed URL, and request logs (werkzeug's development server,
gunicorn's access log, our own error log with the request path) are read by more people than
should be able to read someone's calendar. A filter masks the token in every record of those
loggers before any handler formats it.
"""

from __future__ import annotations

import logging
import re

_TOKEN_IN_PATH = re.compile(r"(/ical/feed/)[^/\s?#\"]+?(\.ics)?(?=[\s?#\"]|$)")
MASK = "***"

LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "booking.errors")


def mask_tokens(text: str) -> str:
    return _TOKEN_IN_PATH.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2) or ''}", text)


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
