"""How much a client may send: ``MAX_CONTENT_LENGTH`` for a whole request (the largest upload,
a site photo, fits), ``MAX_FORM_MEMORY_SIZE`` for the form fields that are not files.

Werkzeug applies ``MAX_FORM_MEMORY_SIZE`` to each field of a multipart form only; a URL-encoded
form is read and parsed in one piece up to ``MAX_CONTENT_LENGTH``, so a single 3 MB text field
got through. Such a form is nothing but text fields, so here its whole body gets the smaller
limit. Either way the answer is 413, rendered by ``booking.errors`` (a page, or problem+json
under /api/).
"""

from __future__ import annotations

from flask import Flask, Request

URLENCODED = "application/x-www-form-urlencoded"


class SizeLimitedRequest(Request):
    @property
    def max_content_length(self) -> int | None:
        limit = super().max_content_length
        if self.mimetype != URLENCODED:
            return limit
        form_limit = self.max_form_memory_size
        if form_limit is None:
            return limit
        return form_limit if limit is None else min(limit, form_limit)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def init_app(app: Flask) -> None:
    app.request_class = SizeLimitedRequest
