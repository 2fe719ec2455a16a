"""The package keeps its layers: the library never imports what runs on top of it, and no module imports in a cycle.

Layers, bottom to top: data, models, attention, scoring, evaluation,
diagnostics, training, validation -> detectors -> localisation ->
experiments and the notebooks' helpers -> the command line. A module may
import from its own layer and the layers below it only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "adda_keras"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    if module in ("adda_keras.cli", "adda_keras.__main__"):
        return 4
    if module.startswith("adda_keras.experiments") or module == "adda_keras.tutorial":
        return 3
    if module == "adda_keras.localisation":
        return 2
    if module == "adda_keras" or module.startswith("adda_keras.detectors"):
        return 1
    return 0


def _imports(path: Path) -> set[str]:
    """The ``adda_keras`` modules that ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("adda_keras"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("adda_keras"))
    return found


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {
    name: {target for target in _imports(path) if target in MODULES and target != name}
    for name, path in MODULES.items()
}


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    upward = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        for target in targets
        if _layer(target) > _layer(name) and not name.startswith(target + ".")
    ]
    assert not upward, upward


def test_no_import_cycles() -> None:
    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for target in GRAPH[node]:
                # a package's __init__ importing its own submodules is how it exports them
                if node.startswith(target + ".") or target.startswith(node + "."):
                    continue
                if target == start:
                    return [*path, start]
                if target not in path:
                    stack.append((target, [*path, target]))
        return None

    cycles = [cycle for name in GRAPH if (cycle := cycle_from(name))]
    assert not cycles, cycles[0]


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        name for name, path in MODULES.items() if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not missing, missing


ROOT = PACKAGE.parent


def test_the_library_never_imports_the_studies() -> None:
    """``studies/`` sits on top of the library: no module of ``adda_keras`` may import it."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders += [f"{path.relative_to(ROOT)} imports {n}" for n in names if n.split(".")[0] == "studies"]
    assert not offenders, offenders


def test_the_wheel_finds_the_library_and_no_study() -> None:
    """Package discovery (pyproject's ``[tool.setuptools.packages.find]``) takes ``adda_keras`` only."""
    tomllib = pytest.importorskip("tomllib")
    from setuptools import find_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(str(ROOT), include=find.get("include", ("*",)), exclude=find.get("exclude", ()))
    assert "adda_keras" in packages and "adda_keras.experiments" in packages
    assert not [p for p in packages if p.split(".")[0] in ("studies", "scripts", "tests")], packages


def test_every_study_runs_itself() -> None:
    """Each study is one module with a ``main`` run by ``python -m studies.<name>``."""
    studies = sorted(p for p in (ROOT / "studies").glob("*.py") if p.name != "__init__.py")
    assert studies
    for path in studies:
        text = path.read_text(encoding="utf-8")
        assert "def main(" in text and 'if __name__ == "__main__":' in text, path.name
        assert f"python -m studies.{path.stem}" in text, f"{path.name}'s docstring does not say how it runs"
