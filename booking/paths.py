"""Where the app finds its templates, static files and migrations, and where it keeps its data.

In a checkout (run from the repository, or installed with ``pip install -e .``) they are the
top-level ``templates/``, ``static/`` and ``migrations/`` folders beside ``booking/``. A built
wheel has no such neighbours: it carries copies inside the package, under ``booking/_resources/``
(``[tool.hatch.build.targets.wheel.force-include]`` in pyproject.toml puts them there).
Translations and ``booking/data`` live inside the package in both cases.

The instance folder (the default SQLite database goes there) is ``BOOKING_INSTANCE_PATH`` when
set; else ``instance/`` in the checkout; else, for an installed wheel, ``instance/`` under the
current working directory, because site-packages is no place for data.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_PACKAGED_RESOURCES = PACKAGE_DIR / "_resources"

#: True when running from a built wheel, False in a checkout.
INSTALLED = _PACKAGED_RESOURCES.is_dir()
RESOURCE_DIR = _PACKAGED_RESOURCES if INSTALLED else PACKAGE_DIR.parent

TEMPLATES_DIR = RESOURCE_DIR / "templates"
STATIC_DIR = RESOURCE_DIR / "static"
MIGRATIONS_DIR = RESOURCE_DIR / "migrations"


def instance_dir() -> Path:
    """The instance folder, absolute (Flask insists); read on each call so tests can change it."""
    configured = os.environ.get("BOOKING_INSTANCE_PATH")
    if configured:
        return Path(configured).expanduser().resolve()
    if INSTALLED:
        return Path.cwd() / "instance"
    return PACKAGE_DIR.parent / "instance"
