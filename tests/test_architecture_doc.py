"""docs/architecture.md stays true: every code name it puts in backticks exists.

A class or message it names (``Saved``, ``Loaded[T]``), a dotted name
(``Store.sign_session``, ``db.store.safety.decide``) and a path (``db/store/_base.py``)
must be found in the project, so a rename that leaves the walkthrough behind fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = re.compile(rf"^{_IDENTIFIER}(\.{_IDENTIFIER})+$")
_CAMEL = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+$|^[A-Z][a-z]+$")
#: Dotted names in backticks that are not code of this project.
_NOT_CODE = {"gc.freeze", "pyproject.toml", "ingredients.json"}


def _source() -> str:
    files = [*ROOT.glob("formulary/**/*.py"), *ROOT.glob("db/**/*.py"), *ROOT.glob("tui/**/*.py")]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def _project_file(name: str) -> bool:
    """A file ``name`` in a folder of the checkout, hidden folders (``.venv``, ``.git``,
    ``.hypothesis``, caches) left out: a file there is not the project's, and running
    tests add and remove ``.hypothesis/tmp`` while this walks."""
    return any(
        any(top.glob(f"**/{name}"))
        for top in ROOT.iterdir()
        if top.is_dir() and not top.name.startswith(".")
    )


def _defined(name: str, source: str) -> bool:
    pattern = rf"(?m)(^\s*(async\s+)?def {name}\b|^\s*class {name}\b|^\s*{name}\s*[:=])"
    return re.search(pattern, source) is not None


def _names() -> list[str]:
    names = []
    for token in re.findall(r"`([^`\n]+)`", DOC.read_text(encoding="utf-8")):
        # ``Store.sign_session(actor, …)`` names Store.sign_session; ``Loaded[T]`` Loaded.
        names.append(re.split(r"[(\[ ]", token, maxsplit=1)[0])
    return names


def test_the_paths_it_names_exist() -> None:
    paths = [n for n in _names() if "/" in n and not n.startswith(("http", "$"))]
    assert paths
    missing = [p for p in paths if not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_the_classes_messages_and_functions_it_names_exist() -> None:
    source = _source()
    checked = 0
    missing = []
    for name in _names():
        if name in _NOT_CODE or "/" in name:
            continue
        if name.endswith(".py"):
            # A module named by its file name in the tables of rooms.
            checked += 1
            if not _project_file(name):
                missing.append(name)
            continue
        if _DOTTED.match(name):
            if name[0].islower() and name.split(".")[0] not in {"db", "formulary", "tui"}:
                continue  # a binding id or an audit action (session.sign), not code
            last = name.rsplit(".", 1)[1]
            if name.split(".")[0] in {"db", "formulary", "tui"} and last[0].islower():
                # A module path (db.store.roles) or a function in one.
                module = ROOT / Path(*name.split("."))
                if module.with_suffix(".py").exists() or module.is_dir():
                    checked += 1
                    continue
        elif _CAMEL.match(name):
            last = name
        else:
            continue
        checked += 1
        if not _defined(last, source):
            missing.append(name)
    assert checked > 30
    assert not missing, f"docs/architecture.md names what the code does not have: {missing}"
