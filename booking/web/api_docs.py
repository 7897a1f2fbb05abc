"""The API's documentation as a page of the site, at ``/api/v1/docs``.

It is HTML in the reader's language with the site's layout, so it is served here rather than by
the tokens-only API; it still answers like the API's public routes (readable from any origin,
counted against the API's rate limit) and the OpenAPI document lists it (``spec.describe``).
"""

from __future__ import annotations

import json

from flask import render_template
from markupsafe import Markup, escape

from booking.api import spec
from booking.api.auth import api_limit, api_rate_limit
from booking.web import bp


def _inline_code(text: str | None) -> Markup:
    """The registry's descriptions use `backticks` (CommonMark, as OpenAPI allows): render them."""
    parts = str(escape(text or "")).split("`")
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))  # noqa: S704 (escaped above)


@bp.get("/api/v1/docs")
@api_rate_limit()  # outside the CORS wrapper, so that preflight requests count as before
@spec.public_cors
def api_docs():
    return render_template(
        "web/api_docs.html",
        operations=spec.REGISTRY,
        document=spec.openapi_document(),
        error_text=spec.ERROR_TEXT,
        error_examples=spec.ERROR_EXAMPLES,
        inline_code=_inline_code,
        json=json,
        rate_limit=api_limit(),
    )
