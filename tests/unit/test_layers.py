"""The layering rules of docs/architecture.md, read from the source (no app, no database).

- The surfaces (``booking/web``, ``booking/api``, ``booking/feeds``) never commit or roll back:
  ``booking/unit_of_work.py`` does, once per request.
- The services do not import Flask: what they need of a request (zone, language, base URL) is
  passed in, and mails are rendered by ``booking/mails.py``.
- The domain imports nothing of the app (see also test_purity.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "booking"
SURFACES = ("web", "api", "feeds")


def modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (PACKAGE / folder).rglob("*.py"))


def transaction_calls(path: Path) -> list[str]:
    """``x.commit()`` / ``x.rollback()`` calls in a module, as ``line: text``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.name}:{node.lineno}: .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "rollback")
    ]


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_the_checks_see_what_they_look_for(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from flask import g\nimport flask_babel\n"
        "def view():\n    db.session.commit()\n    session.rollback()\n"
    )
    assert transaction_calls(sample) == ["sample.py:4: .commit()", "sample.py:5: .rollback()"]
    assert imported_modules(sample) == ["flask", "flask_babel"]


@pytest.mark.parametrize("path", modules(*SURFACES), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_surfaces_leave_the_transaction_to_the_unit_of_work(path: Path) -> None:
    assert transaction_calls(path) == [], (
        "Views do not commit or roll back: booking/unit_of_work.py ends every request's "
        "transaction (commit below 400, rollback otherwise)."
    )


@pytest.mark.parametrize("path", modules("services"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_services_do_not_import_flask(path: Path) -> None:
    flask = [m for m in imported_modules(path) if m == "flask" or m.startswith("flask_")]
    assert flask == [], (
        "Services take what they need of a request as arguments (zone, language, base URL); "
        f"{path.name} imports {flask}."
    )


@pytest.mark.parametrize("path", modules("domain"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_domain_imports_nothing_of_the_app(path: Path) -> None:
    app = [
        m
        for m in imported_modules(path)
        if m.split(".")[0] in ("flask", "sqlalchemy")
        or (m.startswith("booking.") and not m.startswith("booking.domain"))
    ]
    assert app == []
