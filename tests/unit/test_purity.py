"""The domain core must stay importable without the web stack (STYLE.md, "a pure core")."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECK = (
    "loaded = sorted(m for m in ('flask', 'sqlalchemy') if m in sys.modules); "
    "assert not loaded, f'importing booking.domain loaded {loaded}'"
)


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )


def test_importing_the_domain_loads_neither_flask_nor_sqlalchemy() -> None:
    result = run(f"import sys, booking.domain; {CHECK}")
    assert result.returncode == 0, (
        "booking/__init__.py (or a domain module) imports the web stack at module level; "
        "keep Flask imports inside create_app() so the domain stays pure.\n" + result.stderr
    )


def test_the_domain_modules_themselves_import_no_web_stack() -> None:
    # Stands in an empty parent package, so this checks booking/domain/ alone whatever
    # booking/__init__.py does.
    result = run(
        "import sys, types; "
        "parent = types.ModuleType('booking'); parent.__path__ = ['booking']; "
        "sys.modules['booking'] = parent; "
        "import booking.domain; " + CHECK
    )
    assert result.returncode == 0, result.stderr
