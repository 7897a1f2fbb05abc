"""The application factory: one list of what an app is made of, each step in its own place."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from booking import paths
from booking.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides what ``config.Config`` read from the env."""
    from booking import input_guard, mails, unit_of_work
    from booking.cli import register_cli
    from booking.errors import register_error_handlers
    from booking.feeds import init_feeds
    from booking.web import i18n, request_size, security_headers
    from booking.web.accounts import init_login

    app = _new_app(config)
    _init_extensions(app)
    _init_database(app)
    register_error_handlers(app)
    request_size.init_app(app)
    security_headers.init_app(app)
    _init_favicon(app)
    unit_of_work.init_app(app)
    mails.init_app(app)
    i18n.init_app(app)
    init_login(app)
    input_guard.init_app(app)  # before the blueprints: their routes use its converter
    register_blueprints(app)
    register_cli(app)
    init_feeds(app)
    _init_logging(app)
    _init_proxy(app)
    _warn_memory_rate_limits(app)
    return app


def _init_proxy(app: Flask) -> None:
    """Behind ``PROXY_HOPS`` reverse proxies, the client address (which rate limits are keyed
    by) is the one those proxies put in ``X-Forwarded-For``; with 0 the header is ignored."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops
        )


def _warn_memory_rate_limits(app: Flask) -> None:
    """In-memory counters are per worker process: with several workers, each allows the limit."""
    production = app.config.get("ENV") == "production" or not (app.debug or app.testing)
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if production and app.config.get("RATELIMIT_ENABLED", True) and storage.startswith("memory"):
        logging.getLogger("booking.limits").warning(
            "Rate limits are kept in memory (RATELIMIT_STORAGE_URI=%s): each worker process "
            "counts on its own. Set RATELIMIT_STORAGE_URI=redis://... when more than one "
            "worker runs.",
            storage,
        )


def register_blueprints(app: Flask) -> None:
    """Every surface, in one place: the HTML pages, the JSON API and the calendar feeds."""
    from booking import api, feeds, web
    from booking.web import accounts, admin, organisations

    app.register_blueprint(web.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(organisations.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(feeds.bp)
    if app.config["ENV"] == "development" and not app.testing:
        from booking.web import dev_outbox  # the outbox as a page: development only

        app.register_blueprint(dev_outbox.bp)


def _new_app(config: dict[str, Any] | None) -> Flask:
    from booking.config import Config

    app = Flask(
        __name__,
        template_folder=str(paths.TEMPLATES_DIR),
        static_folder=str(paths.STATIC_DIR),
        instance_path=str(paths.instance_dir()),
    )
    app.config.from_mapping(Config().as_dict())
    if config:
        app.config.update(config)
    _pool_timeout(app)
    _check_secret_key(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    return app


IN_MEMORY_SQLITE = {"sqlite://", "sqlite:///", "sqlite:///:memory:"}


def _pool_timeout(app: Flask) -> None:
    """How long a request waits for a pooled connection before the answer is a 503; decided
    after the overrides, as the database URI may come from them (an in-memory SQLite database
    has no pool, and its engine refuses the option)."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if str(app.config.get("SQLALCHEMY_DATABASE_URI")) in IN_MEMORY_SQLITE:
        options.pop("pool_timeout", None)
    else:
        options.setdefault("pool_timeout", app.config["DATABASE_POOL_TIMEOUT"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _check_secret_key(app: Flask) -> None:
    from booking.config import DEVELOPMENT_SECRET_KEY

    if app.config["ENV"] == "production" and app.config.get("SECRET_KEY") in (
        None,
        "",
        DEVELOPMENT_SECRET_KEY,
    ):
        raise RuntimeError("SECRET_KEY must be set to a long random value in production.")


def _init_extensions(app: Flask) -> None:
    # Their request hooks run in this order (after-request hooks in reverse): the unit of work,
    # installed later, commits before Flask-Login and the limiter add to the response.
    from booking.web.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(paths.MIGRATIONS_DIR))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)


def _init_database(app: Flask) -> None:
    from booking import models  # noqa: F401  (register mappers before first use)
    from booking.database import install_database_hooks

    with app.app_context():
        install_database_hooks(db.engine, app.config)


def _init_favicon(app: Flask) -> None:
    """Browsers ask for /favicon.ico whatever the page links: answer with the site's SVG icon."""
    from flask import send_from_directory

    def favicon():
        return send_from_directory(
            app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
        )

    app.add_url_rule("/favicon.ico", "favicon", favicon)


def _init_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
