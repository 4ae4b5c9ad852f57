"""The product uses its dependencies' public API only.

A private name (`_something`) of tomlkit, aiosqlite, SQLAlchemy, discord.py, … can change or go
in any release, and then breaks on a user's machine, not ours (tomlkit 0.15 removed
`Container._insert_after`, which `/nkru watch exclude` used). Patching a library's class
attributes (`Route.BASE = …`) changes every user of that class in the process. This scans
`bot/` and `storage/` and fails on either, naming the file and line.

A private attribute counts as ours when our code defines it (a `def`/`class` of that name, a
`self._x = …`, or a name assigned in a class or module body); anything else reached through a
dot must come from a dependency. ruff's SLF001 (in pyproject.toml) catches `obj._x` on other
objects too; this check adds what it cannot see: a subclass reaching into its library base
class (`self._execute` in a subclass of `aiosqlite.Connection`), private imports, and patching.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage")
# Our packages, and the modules the benchmark scripts import from their own folder.
OWN = {"bot", "storage", "tests", "benchmarks"} | {
    p.stem for p in (ROOT / "benchmarks").glob("*.py")
}
# Problems (as reported below) that may stay, each with the reason no public way exists.
# Empty: keep it so.
ALLOWED: dict[str, str] = {}


def _sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _own_names(trees: list[ast.Module]) -> set[str]:
    """Every private name our code defines, as a def, a class, a self/cls attribute or in a body."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
                bodies = [node.body] if isinstance(node, ast.ClassDef) else []
            else:
                bodies = []
            if isinstance(node, ast.Module):
                bodies = [node.body]
            for body in bodies:
                for statement in body:
                    names.update(_assigned_names(statement))
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                names.add(node.attr)
    return {name for name in names if _is_private(name)}


def _assigned_names(statement: ast.stmt) -> Iterator[str]:
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign | ast.AugAssign):
        targets = [statement.target]
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                yield node.id


def _imported_modules(tree: ast.Module) -> dict[str, str]:
    """Local name → the top-level module it was imported from."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound[(alias.asname or alias.name).split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                bound[alias.asname or alias.name] = node.module.split(".")[0]
    return bound


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _problems(where: str, tree: ast.Module, own: set[str]) -> Iterator[tuple[str, str]]:
    """(file, problem) for each private use or patch in one parsed module."""
    imported = _imported_modules(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = node.module
            if module.split(".")[0] in OWN or module == "__future__":
                continue
            if any(_is_private(part) for part in module.split(".")):
                yield where, f"line {node.lineno}: imports the private module {module}"
            for alias in node.names:
                if _is_private(alias.name):
                    yield where, f"line {node.lineno}: imports {module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in OWN:
                    continue
                if any(_is_private(part) for part in alias.name.split(".")):
                    yield where, f"line {node.lineno}: imports the private module {alias.name}"
        elif isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in own:
            yield where, f"line {node.lineno}: uses {node.attr}, which our code does not define"
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                root = _root_name(target) if isinstance(target, ast.Attribute) else None
                if root and imported.get(root, "bot") not in OWN:
                    yield (
                        where,
                        (
                            f"line {node.lineno}: sets {ast.unparse(target)} on {imported[root]}, "
                            "changing it for the whole process"
                        ),
                    )


def _all_problems(sources: list[Path]) -> list[str]:
    trees = [ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sources]
    own = _own_names(trees)
    found = []
    for path, tree in zip(sources, trees, strict=True):
        for where, problem in _problems(path.relative_to(ROOT).as_posix(), tree, own):
            if f"{where}: {problem}" not in ALLOWED:
                found.append(f"{where}: {problem}")
    return found


def test_bot_and_storage_use_no_private_api_and_patch_no_library() -> None:
    problems = _all_problems(_sources())

    assert not problems, "use the dependency's public API instead:\n" + "\n".join(problems)


def test_tests_use_a_dependency_internal_only_with_the_reason_beside_it() -> None:
    """Tests may reach a dependency's internals where no public way exists, each saying why in
    a comment on that line or the one above (a new use without one fails here)."""
    everything = sorted(
        p for folder in (*PACKAGES, "tests", "benchmarks") for p in (ROOT / folder).rglob("*.py")
    )
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in everything}
    own = _own_names(list(trees.values()))
    unexplained = []
    for path, tree in trees.items():
        if path.relative_to(ROOT).parts[0] not in ("tests", "benchmarks"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for where, problem in _problems(path.relative_to(ROOT).as_posix(), tree, own):
            number = int(problem.split(":")[0].removeprefix("line "))
            beside = lines[number - 1] + (lines[number - 2] if number > 1 else "")
            if "#" not in beside:
                unexplained.append(f"{where}: {problem}")

    assert not unexplained, "say why no public way exists, in a comment:\n" + "\n".join(unexplained)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("theme.value._insert_after(last, key, array)", "uses _insert_after"),
        (
            "import aiosqlite\nclass C(aiosqlite.Connection):\n"
            "    async def run(self): return await self._execute(print)\n",
            "uses _execute",
        ),
        ("from aiosqlite.core import _connect\n", "imports aiosqlite.core._connect"),
        ("import discord._types\n", "imports the private module discord._types"),
        ("from discord.http import Route\nRoute.BASE = 'x'\n", "sets Route.BASE on discord"),
        ("import discord\ndiscord.http.Route.BASE = 'x'\n", "sets discord.http.Route.BASE"),
    ],
)
def test_the_check_finds_each_kind_of_private_use(code: str, expected: str) -> None:
    tree = ast.parse(code)

    problems = [problem for _, problem in _problems("sample.py", tree, _own_names([tree]))]

    assert any(expected in problem for problem in problems), problems


def test_the_check_accepts_our_own_private_names_and_plain_settings() -> None:
    code = (
        "import logging\nclass A:\n    _cache = None\n    def __init__(self):\n"
        "        self._seen = 1\n    def _helper(self): return self._seen\n"
        "def f(a: A): a._helper(); logging.getLogger(__name__).setLevel(10)\n"
        "obj = A()\nobj.name = 'x'\n"
    )
    tree = ast.parse(code)

    assert list(_problems("sample.py", tree, _own_names([tree]))) == []
