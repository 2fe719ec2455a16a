"""`make dist`: the wheel (with the bundled MNIST) and the notebooks zip that the Colab route uses.

Building the wheel needs setuptools from the package index (``make dist``
installs it into its own small ``.dist-venv``), so it is checked by its
configuration and by what ``make -n dist`` would run; the zip is built.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("make_dist", ROOT / "scripts" / "make_dist.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_dist_uses_a_small_build_environment_not_the_development_install() -> None:
    # -B: as on a fresh clone; -n: print the steps, run none
    dry = subprocess.run(["make", "-n", "-B", "dist"], cwd=ROOT, capture_output=True, text=True, check=True)
    steps = [line.strip() for line in dry.stdout.splitlines() if line.strip() and not line.startswith("make[")]
    assert not any(".venv/" in step.replace(".dist-venv/", "") for step in steps), dry.stdout
    assert not any("requirements.txt" in step or "tensorflow" in step.lower() for step in steps), dry.stdout
    assert any(step.endswith("-m venv .dist-venv") for step in steps), dry.stdout
    assert steps[-1].startswith(".dist-venv/bin/python scripts/make_dist.py"), dry.stdout
    assert "--no-build-isolation" in steps[-1]
    assert ".dist-venv/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_make_dist_needs_only_the_standard_library() -> None:
    tree = ast.parse((ROOT / "scripts" / "make_dist.py").read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_notebooks_zip_holds_every_notebook_and_says_how_to_run_them(tmp_path: Path) -> None:
    dist = _load_script()
    archive = dist.build_notebook_zip(tmp_path)
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
        readme = opened.read("adda_keras-notebooks/README.txt").decode()
    assert sorted(Path(name).name for name in names if name.endswith(".ipynb")) == notebooks
    assert "Upload notebook" in readme and ".whl" in readme and "make lab" in readme


def test_the_wheel_carries_the_bundled_mnist_where_the_library_looks() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^"share/adda_keras/mnist" = \[(.*)\]$', pyproject, re.MULTILINE)
    assert match, "pyproject.toml must install data/mnist as data files under share/adda_keras/mnist"
    files = re.findall(r'"([^"]+)"', match.group(1))
    assert all((ROOT / name).is_file() for name in files)
    assert {Path(name).name for name in files} >= {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    source = (ROOT / "adda_keras" / "data" / "mnist.py").read_text(encoding="utf-8")
    assert '"share" / "adda_keras" / "mnist"' in source
