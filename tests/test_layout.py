"""The package keeps its layers: the library never imports what runs on top of it, and no module imports in a cycle.

Layers, bottom to top: data, models, attention, scoring, evaluation,
diagnostics, training, validation -> detectors -> localisation ->
experiments and the notebooks' helpers -> the command line. A module may
import from its own layer and the layers below it only.
"""

from __future__ import annotations

import ast
from pathlib import Path

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
