"""The application factory and request-wide settings (locale, time zone, logging)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from booking import paths
from booking.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides what ``config.Config`` read from the env."""
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
    _check_secret_key(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(paths.MIGRATIONS_DIR))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)

    from booking import models  # noqa: F401  (register mappers before first use)
    from booking.database import install_database_hooks

    with app.app_context():
        install_database_hooks(db.engine)

    from booking.errors import register_error_handlers

    register_error_handlers(app)

    from booking import unit_of_work

    unit_of_work.init_app(app)

    from booking import mails

    mails.init_app(app)

    from booking.web import bp as web_bp

    app.register_blueprint(web_bp)

    from booking.web import accounts, i18n, organisations

    i18n.init_app(app)
    accounts.init_login(app)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(organisations.bp)

    from booking.cli import register_cli

    register_cli(app)

    from booking.api import bp as api_bp
    from booking.api import tokens_bp
    from booking.api.cli import create_token_command

    app.register_blueprint(api_bp)
    app.register_blueprint(tokens_bp)
    app.cli.add_command(create_token_command)

    from booking.feeds import init_feeds

    init_feeds(app)
    _configure_logging(app)
    return app


@login_manager.user_loader
def load_user(user_id: str):
    from booking.models import User

    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def _check_secret_key(app: Flask) -> None:
    from booking.config import DEVELOPMENT_SECRET_KEY

    if app.config["ENV"] == "production" and app.config.get("SECRET_KEY") in (
        None,
        "",
        DEVELOPMENT_SECRET_KEY,
    ):
        raise RuntimeError("SECRET_KEY must be set to a long random value in production.")


def select_locale() -> str:
    """The user's setting, else ``?lang=`` (kept in the session), else Accept-Language, else
    German; see ``booking.web.i18n``."""
    from booking.web.i18n import select_locale as _select

    return _select()


def select_timezone() -> str:
    from flask import current_app

    return current_app.config["BOOKING_TIMEZONE"]


def _configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
