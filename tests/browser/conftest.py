"""A live server on the test database and a Debian chromium driven by Playwright.

The server is a second app object on the same database as the ``app`` fixture (which ran the
migrations); it has no SERVER_NAME so it answers on 127.0.0.1, and CSRF protection is on as in
production. Test data is committed before the browser looks at it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from booking import create_app

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Date and time inputs follow the browser's language: fix it so typed keys are predictable.
    "--lang=en-US",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
                )


def _whole_answers(app):
    """Read each answer in full (and close it) before the server writes it.

    Chromium cancels the requests of a page it leaves (a stylesheet, a font still loading).
    Werkzeug's development server then fails while draining the socket and skips closing the
    answer, so a static file's handle stays open until the garbage collector finds it, in some
    later test, where ``filterwarnings = error`` turns the ResourceWarning into a failure.
    """

    def wsgi(environ, start_response):
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(app, database_url) -> Iterator[str]:
    live = create_app(
        {
            "TESTING": False,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "browser-test-secret",
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
        }
    )
    server = make_server("127.0.0.1", 0, _whole_answers(live), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    # The live app's connections belong to its own engine: close them, or PostgreSQL runs end
    # with "connection deleted while still open" warnings.
    with live.app_context():
        live.extensions["sqlalchemy"].engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, db):
    """A fresh browser context (no cookies) in English, on a clean database."""
    context = browser.new_context(base_url=live_server, locale="en-US", timezone_id="Europe/Berlin")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
    db.session.commit()


@pytest.fixture
def phone_page(browser, live_server, db):
    context = browser.new_context(
        base_url=live_server,
        locale="en-US",
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    yield page
    context.close()
    db.session.commit()


@pytest.fixture
def axe():
    return axe_violations


@pytest.fixture
def horizontal_scroll():
    return has_horizontal_scroll


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations on the current page."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm install` in the project root")
    # Evaluated through the DevTools protocol, not as an inline <script>: the pages' CSP
    # (booking/web/security_headers.py) refuses inline scripts, and the test must not weaken it.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")
