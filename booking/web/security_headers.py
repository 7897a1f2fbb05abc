"""The browser-facing security headers, on every response the app sends.

One ``after_request`` hook covers HTML pages, the JSON API, calendar feeds, error pages,
redirects and the static files Flask serves; a response that already carries one of these
headers keeps its own (the feeds send ``Referrer-Policy: no-referrer``, for instance).

The Content-Security-Policy allows scripts, styles, fonts and images from this origin only.
Templates therefore hold no inline ``<script>``, no ``on…=`` handler attributes, no ``<style>``
element and no ``style=`` attribute (``static/booking.js`` and the stylesheets live under
``static/``). Exceptions: KERN's stylesheet, whose icons are ``data:`` SVG images, and the
development outbox's mail previews (inline styles).
``tests/browser/test_csp.py`` loads the main pages in chromium and fails on any violation.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # KERN's icons are inline SVG images in its stylesheet (url("data:image/svg+xml,...")).
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# "same-origin" rather than "strict-origin-when-cross-origin": other sites learn nothing, not
# even that a visitor came from the booking service, and our own pages still send the full
# address (Flask-WTF's CSRF check over HTTPS needs a same-origin Referer on every form post).
REFERRER_POLICY = "same-origin"

# Pages whose own address holds a secret (the password-reset and invitation link, a new
# registration's confirmation link): no request they cause, not even one to this site (their
# stylesheets, the form's post), may carry the token in its Referer; the origin alone still
# satisfies the CSRF check.
LINK_PAGE_ENDPOINTS = frozenset({"accounts.password_reset", "accounts.confirm_address"})
LINK_PAGE_REFERRER_POLICY = "strict-origin"

# The development outbox (booking/web/dev_outbox.py, never registered in production) shows each
# mail's HTML part in a sandboxed srcdoc frame, which inherits the page's policy; mails style
# their markup inline because mail programs ignore stylesheets.
INLINE_STYLE_ENDPOINTS = frozenset({"dev.outbox"})
OUTBOX_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)

# The embeddable offers list (/embed/offers) is meant to be framed by other sites (the city
# portal, a district newsletter): it may be framed by EMBED_FRAME_ANCESTORS, holds no form and
# sets no cookie. Every other page may not be framed at all.
EMBED_ENDPOINTS = frozenset({"web.embed_offers"})


def embed_policy(ancestors: str) -> str:
    return CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


# A year, the usual value for sites that are HTTPS-only for good. No includeSubDomains: other
# services under the same parent domain are not ours to commit to HTTPS.
HSTS = "max-age=31536000"


def sends_hsts(app: Flask) -> bool:
    """Only a production app whose cookies are HTTPS-only promises browsers HTTPS for a year:
    the same setting (``SESSION_COOKIE_SECURE``, on by default in production, see
    ``booking.config``) that says the site is served over HTTPS."""
    return app.config.get("ENV") == "production" and bool(app.config.get("SESSION_COOKIE_SECURE"))


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    outbox = request.endpoint in INLINE_STYLE_ENDPOINTS
    embedded = request.endpoint in EMBED_ENDPOINTS
    policy = OUTBOX_POLICY if outbox else CONTENT_SECURITY_POLICY
    if embedded:
        policy = embed_policy(current_app.config.get("EMBED_FRAME_ANCESTORS", "*"))
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if not embedded:
        # For browsers that do not know CSP's frame-ancestors.
        headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint in LINK_PAGE_ENDPOINTS:
        headers["Referrer-Policy"] = LINK_PAGE_REFERRER_POLICY
    else:
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    if sends_hsts(current_app):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
