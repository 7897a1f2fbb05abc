"""Every text a German user can see has a German translation with the same placeholders.

The messages are collected twice, independently:

- with Babel's extraction over the whole repository (``babel.cfg``, with the keywords of the
  extraction command documented at its top): Python code *and* Jinja templates, exactly what
  ``pybabel extract`` puts into the catalogues;
- by parsing every module under ``booking/`` with ``ast`` for ``N_("...")``, ``_()``,
  ``gettext()``, ``lazy_gettext()``, ``_l()`` and ``ngettext()`` calls with literal arguments, so
  a module that ``babel.cfg`` stops covering is still noticed.

Each message must have a non-empty, non-fuzzy German translation in ``messages.po``, the compiled
``messages.mo`` must carry the same text, and msgid and msgstr must use the same ``%(name)s``
placeholders. English needs no msgstr: gettext falls back to the English msgid.

To fix a failure, follow the commands at the top of ``babel.cfg`` (extract, update, translate,
compile).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
GERMAN = ROOT / "booking" / "translations" / "de" / "LC_MESSAGES"

# Calls whose first argument (and, for ngettext, second) is a msgid.
PYTHON_KEYWORDS = {"N_", "_", "gettext", "lazy_gettext", "_l", "ngettext", "lazy_ngettext"}
PLURAL_KEYWORDS = {"ngettext", "lazy_ngettext"}

# %(name)s, %(num)d, %(price).2f ... and the literal %% (which is no placeholder).
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\)[#0 +-]*\d*(?:\.\d+)?(?P<type>[a-zA-Z])|%)")

MsgId = str | tuple[str, ...]


def placeholders(text: str) -> set[str]:
    """The named placeholders of ``text`` with their conversion, e.g. ``{"%(num)d"}``."""
    return {
        f"%({m['name']}){m['type']}" for m in PLACEHOLDER.finditer(text) if m["name"] is not None
    }


def documented_keywords(cfg: Path = BABEL_CFG) -> set[str]:
    """The ``-k`` keywords of the ``pybabel extract`` command documented at the top of babel.cfg."""
    commands = [line for line in cfg.read_text("utf-8").splitlines() if "pybabel extract" in line]
    assert commands, "babel.cfg should document the pybabel extract command in a comment"
    return set(re.findall(r"-k\s+(\S+)", commands[0]))


def extracted_messages(root: Path, cfg: Path = BABEL_CFG) -> dict[MsgId, list[str]]:
    """What ``pybabel extract`` finds under ``root``: msgid -> ["file:line", ...]."""
    with cfg.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(cfg))
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(dict.fromkeys(documented_keywords(cfg)))
    found: dict[MsgId, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        root, method_map, options_map, keywords=keywords
    ):
        assert context is None, f"{filename}:{lineno}: message contexts are not handled here"
        found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def python_calls(package: Path) -> Iterable[tuple[str, str, ast.Call]]:
    """(location, keyword, call) of every translation call in the modules under ``package``."""
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in PYTHON_KEYWORDS and node.args:
                where = f"{path.relative_to(package.parent)}:{node.lineno}"
                yield where, _call_name(node), node


def python_messages(package: Path) -> dict[MsgId, list[str]]:
    """msgid -> locations of the translation calls with literal arguments under ``package``."""
    found: dict[MsgId, list[str]] = {}
    for where, name, call in python_calls(package):
        singular = _literal(call.args[0])
        if singular is None:
            continue
        msgid: MsgId = singular
        if name in PLURAL_KEYWORDS and len(call.args) > 1:
            plural = _literal(call.args[1])
            if plural is not None:
                msgid = (singular, plural)
        found.setdefault(msgid, []).append(where)
    return found


def load_catalog(folder: Path = GERMAN) -> Catalog:
    with (folder / "messages.po").open("rb") as f:
        return read_po(f, locale="de")


def load_compiled(folder: Path = GERMAN) -> Catalog:
    with (folder / "messages.mo").open("rb") as f:
        return read_mo(f)


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ("",)
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def problems(
    messages: dict[MsgId, list[str]], catalog: Catalog, compiled: Catalog | None = None
) -> list[str]:
    """One line per message that a German reader would not see in German (or would see broken)."""
    found = []
    for msgid, where in sorted(messages.items(), key=lambda item: str(item[0])):
        ids = _strings(msgid)
        place = ", ".join(where[:3])
        entry = catalog.get(ids[0])
        if entry is None:
            found.append(f"{place}: not in the German catalogue: {ids[0]!r}")
            continue
        strings = _strings(entry.string)
        if entry.fuzzy:
            found.append(f"{place}: fuzzy German translation of {ids[0]!r}")
            continue
        if not all(strings):
            found.append(f"{place}: no German translation of {ids[0]!r}")
            continue
        if ids != _strings(entry.id):
            found.append(f"{place}: the catalogue has {entry.id!r} for {msgid!r} (re-extract)")
            continue
        # German plurals are built like English ones: msgstr[0] is the singular (msgid),
        # msgstr[1] the plural (msgid_plural); each keeps the placeholders of its English form.
        for index, string in enumerate(strings):
            expected = placeholders(ids[min(index, len(ids) - 1)])
            if placeholders(string) != expected:
                found.append(
                    f"{place}: placeholders differ in {ids[0]!r}: msgid {sorted(expected)}, "
                    f"msgstr {sorted(placeholders(string))} in {string!r}"
                )
        if compiled is not None:
            built = compiled.get(ids[0])
            if built is None or _strings(built.string) != strings:
                found.append(f"{place}: messages.mo is out of date for {ids[0]!r} (compile)")
    return found


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def compiled() -> Catalog:
    return load_compiled()


def test_every_extracted_message_has_a_german_translation(catalog, compiled):
    messages = extracted_messages(ROOT)
    assert len(messages) > 400, "extraction found suspiciously few messages"
    assert any(":" in w and w.startswith("templates") for ws in messages.values() for w in ws)
    found = problems(messages, catalog, compiled)
    assert found == [], "\n".join(found)


def test_every_translation_call_in_booking_has_a_german_translation(catalog, compiled):
    messages = python_messages(ROOT / "booking")
    assert len(messages) > 100, "the ast scan found suspiciously few messages"
    found = problems(messages, catalog, compiled)
    assert found == [], "\n".join(found)


def test_the_extraction_command_names_n_():
    assert "N_" in documented_keywords()


def test_n_is_only_called_with_a_literal_string():
    """``N_(variable)`` or ``N_(f"...")`` cannot be extracted, so it would never be translated."""
    found = [
        f"{where}: {ast.unparse(call)[:100]}"
        for where, name, call in python_calls(ROOT / "booking")
        if name == "N_" and _literal(call.args[0]) is None
    ]
    assert found == [], "\n".join(found)


def test_the_german_catalogue_has_no_fuzzy_entries(catalog):
    assert [m.id for m in catalog if m.id and m.fuzzy] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("At most %(max)d characters.", {"%(max)d"}),
        ("%(num)d of %(all)d, 100%% sure: %(name)s", {"%(num)d", "%(all)d", "%(name)s"}),
        ("Price %(price).2f", {"%(price)f"}),
        ("No placeholder, 5 %", set()),
    ],
)
def test_placeholders(text, expected):
    assert placeholders(text) == expected


def test_the_check_notices_a_missing_translation_in_code_and_templates(tmp_path, catalog):
    """The checks above fail for a new, untranslated message (in a scratch copy, not the tree)."""
    (tmp_path / "booking" / "services").mkdir(parents=True)
    (tmp_path / "booking" / "services" / "scratch.py").write_text(
        "from booking.services.errors import N_\n\n"
        'MESSAGE = N_("Nonexistent test message")\n'
        'KNOWN = N_("There is no such room.")\n',
        encoding="utf-8",
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "scratch.html").write_text(
        '<p>{{ _("Nonexistent template message") }}</p>\n', encoding="utf-8"
    )
    extracted = problems(extracted_messages(tmp_path), catalog)
    assert len(extracted) == 2
    assert any("Nonexistent test message" in p for p in extracted)
    assert any("Nonexistent template message" in p for p in extracted)
    scanned = problems(python_messages(tmp_path / "booking"), catalog)
    assert len(scanned) == 1 and "Nonexistent test message" in scanned[0]


def test_the_check_notices_fuzzy_entries_and_wrong_placeholders():
    catalog = Catalog(locale="de")
    catalog.add("Only a guess.", "Nur geraten.", flags=["fuzzy"])
    catalog.add("At most %(max)d characters.", "Höchstens %(n)d Zeichen.")
    catalog.add(
        ("%(num)d date", "%(num)d dates"), ("%(num)d Termin", "%(num)d Termine"), flags=["fuzzy"]
    )
    catalog.add(("%(num)d room", "%(num)d rooms"), ("ein Raum", "%(num)d Räume"))
    catalog.add(("Book this date", "Book these %(num)d dates"), ("Buchen", "%(num)d buchen"))
    found = problems(
        {
            "Only a guess.": ["x.py:1"],
            "At most %(max)d characters.": ["x.py:2"],
            ("%(num)d date", "%(num)d dates"): ["x.py:3"],
            ("%(num)d room", "%(num)d rooms"): ["x.py:4"],
            ("Book this date", "Book these %(num)d dates"): ["x.py:5"],
        },
        catalog,
    )
    assert len(found) == 4, found
