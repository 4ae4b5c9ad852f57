"""pyproject.toml, the lock files and the code agree about dependencies.

`make setup` installs requirements/dev.lock and the Docker image requirements/run.lock, both
hash-checked, so what a fresh machine runs is what CI tested. These tests fail when a
dependency is added to one of pyproject.toml and a lock and not the other (run `make lock`),
when the two locks pin different versions of a package, and when the code imports a package
pyproject.toml does not declare, or pyproject.toml declares one nothing uses.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = "nkru-monitor (pyproject.toml)"
BUILD_IN = "-r requirements/build.in"
# Declared, and used without an import statement of ours: each says how.
USED_WITHOUT_IMPORT = {
    "asyncpg": "SQLAlchemy loads it for postgresql+asyncpg:// database URLs",
    "mypy": "make typecheck",
    "ruff": "make lint",
    "import-linter": "make lint (lint-imports: the layer contracts in pyproject.toml)",
    "uv": "make lock, make test-lowest, make test-latest",
    "pytest-asyncio": "a pytest plugin (asyncio_mode = auto)",
    "pytest-timeout": "a pytest plugin (timeout = … in pyproject.toml)",
}


@dataclass(frozen=True)
class Pin:
    """One package of a lock file: its version and what asked for it."""

    version: Version
    via: frozenset[str]


def _requirements(specs: list[str]) -> dict[str, Requirement]:
    requirements = [Requirement(spec) for spec in specs]
    return {canonicalize_name(r.name): r for r in requirements}


RUNTIME = _requirements(PYPROJECT["project"]["dependencies"])
DEV = _requirements(PYPROJECT["project"]["optional-dependencies"]["dev"])
BUILD = _requirements(PYPROJECT["build-system"]["requires"])


def _lock(name: str) -> dict[str, Pin]:
    """Package → pin, from uv's `pip compile` output (`name==version`, hashes, `# via …`)."""
    pins: dict[str, Pin] = {}
    current: tuple[str, Version] | None = None
    via: set[str] = set()
    for line in (ROOT / "requirements" / name).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)", line):
            if current:
                pins[current[0]] = Pin(current[1], frozenset(via))
            current, via = (canonicalize_name(match[1]), Version(match[2])), set()
        elif (stripped := line.strip()).startswith("# via"):
            via.update(part.strip() for part in stripped.removeprefix("# via").split(","))
        elif stripped.startswith("#   "):  # uv's split annotation style: one asker per line
            via.add(stripped.removeprefix("#").strip())
    if current:
        pins[current[0]] = Pin(current[1], frozenset(via))
    return pins


def _direct(pins: dict[str, Pin], asker: str) -> set[str]:
    return {name for name, pin in pins.items() if asker in pin.via}


@pytest.mark.parametrize(
    ("lock", "declared"),
    [
        ("run.lock", RUNTIME),
        ("dev.lock", RUNTIME | DEV),
    ],
)
def test_the_lock_pins_exactly_what_pyproject_declares(
    lock: str, declared: dict[str, Requirement]
) -> None:
    pins = _lock(lock)

    assert _direct(pins, PROJECT) == set(declared), f"run `make lock`: {lock} is stale"
    for name, requirement in declared.items():
        assert pins[name].version in requirement.specifier, (
            f"{lock} pins {name}=={pins[name].version}, outside {requirement}: run `make lock`"
        )


def test_the_build_backend_is_locked_as_pyproject_declares_it() -> None:
    build_in = (ROOT / "requirements" / "build.in").read_text(encoding="utf-8")
    listed = _requirements([ln for ln in build_in.splitlines() if ln and not ln.startswith("#")])

    assert {name: str(r) for name, r in listed.items()} == {n: str(r) for n, r in BUILD.items()}
    for lock in ("build.lock", "dev.lock"):
        pins = _lock(lock)
        assert _direct(pins, BUILD_IN) == set(BUILD)
        assert all(pins[name].version in BUILD[name].specifier for name in BUILD)


def test_the_image_runs_the_versions_ci_tested() -> None:
    run, dev = _lock("run.lock"), _lock("dev.lock")

    differ = {name: (pin.version, dev[name].version) for name, pin in run.items()}
    assert {n: v for n, v in differ.items() if v[0] != v[1]} == {}
    assert set(run) <= set(dev)


def _third_party_imports(*folders: str) -> dict[str, str]:
    """Top-level third-party module → the first file importing it."""
    own = {"bot", "storage", "tests", "benchmarks"}
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in own and top[0] != "_":
                        found.setdefault(top, path.relative_to(ROOT).as_posix())
    return found


def _distributions(imports: dict[str, str]) -> dict[str, str]:
    """Distribution → the file importing it; a module no installed distribution has → itself."""
    owners = packages_distributions()
    found: dict[str, str] = {}
    for module, where in imports.items():
        for dist in owners.get(module, [module]):
            found.setdefault(canonicalize_name(dist), where)
    return found


def test_the_product_imports_only_runtime_dependencies_and_uses_them_all() -> None:
    used = _distributions(_third_party_imports("bot", "storage"))

    undeclared = {name: where for name, where in used.items() if name not in RUNTIME}
    assert undeclared == {}, "declare these in [project] dependencies"
    unused = set(RUNTIME) - set(used) - set(USED_WITHOUT_IMPORT)
    assert unused == set(), "nothing imports these: drop them from [project] dependencies"


def test_tests_and_benchmarks_import_only_declared_dependencies() -> None:
    used = _distributions(_third_party_imports("tests", "benchmarks"))

    undeclared = {name: where for name, where in used.items() if name not in RUNTIME | DEV}
    assert undeclared == {}, "declare these in the dev extra"
    product = set(_distributions(_third_party_imports("bot", "storage")))
    unused = set(DEV) - set(used) - product - set(USED_WITHOUT_IMPORT)
    assert unused == set(), "nothing uses these: drop them from the dev extra"
