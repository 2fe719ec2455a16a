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
    assert '.whl[cpu]"' in readme and "[gpu]" in readme and "results/" in readme
    assert "ADDA_KERAS_RESULTS" not in readme  # the reader keeps results/ beside the notebooks; nothing to set


def _tables_read_by(notebook: str) -> set[str]:
    """The ``results/quick/<table>`` folders that a notebook's source names (string literals such as "table1-clean")."""
    source = (ROOT / "notebooks" / notebook).read_text(encoding="utf-8")
    return set(re.findall(r'"(table[13]-[A-Za-z0-9.-]+)"', source))


def test_the_notebooks_zip_carries_the_result_tables_the_notebooks_read(tmp_path: Path) -> None:
    dist = _load_script()
    with zipfile.ZipFile(dist.build_notebook_zip(tmp_path)) as opened:
        names = set(opened.namelist())
    results = "adda_keras-notebooks/results/"
    read_by_06 = _tables_read_by("06_results.py")
    assert {"table1-noisy", "table1-clean", "table3-noisy", "table1-noisy-s2", "table3-ten-digits"} <= read_by_06
    expected = {f"quick/{table}/runs.csv" for table in read_by_06}
    expected |= {"quick/table1-noisy/table.md", "quick/table3-noisy/table.md", "seeds/quick/table1-noisy/runs.csv"}
    expected |= {f"quick/table3-ten-digits/{name}" for name in ("combinations.md", "few_anomalies.md")}
    expected |= {f"localisation/quick/{name}/table.md" for name in ("digits", "textures")}  # notebook 08
    expected |= {f"real_images/quick/{name}/table.md" for name in ("photo-digits", "textures")}  # notebook 09
    assert {results + name for name in expected} <= names, sorted({results + n for n in expected} - names)
    assert all((ROOT / "results" / name).is_file() for name in expected)
    carried = [name for name in names if name.startswith(results)]
    assert not [name for name in carried if "/units/" in name or not name.endswith((".md", ".csv"))]


def test_a_notebook_outside_a_checkout_reads_the_results_beside_it(tmp_path: Path, monkeypatch) -> None:
    from adda_keras import tutorial

    dist = _load_script()
    with zipfile.ZipFile(dist.build_notebook_zip(tmp_path)) as opened:
        opened.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / "adda_keras-notebooks"
    monkeypatch.setattr(tutorial, "_checkout", lambda: None)  # as installed from the wheel: no checkout
    # a notebook server started in the unzipped folder, and Colab's /content with the zip unzipped in it
    for here in (folder, tmp_path / "unzipped"):
        found = tutorial.results_folder({}, here=here)
        assert found == folder / "results" and (found / "quick" / "table1-noisy" / "runs.csv").is_file()
        assert tutorial.shown_path(found / "quick", here=here) in (
            "results/quick",
            "adda_keras-notebooks/results/quick",
        )
    missing = tutorial.results_folder({}, here=tmp_path / "elsewhere")
    assert tutorial.shown_path(missing, here=tmp_path / "elsewhere") == "results"  # named, never a site-packages path
    assert tutorial.results_folder({"ADDA_KERAS_RESULTS": str(tmp_path)}) == tmp_path
    # in this checkout: its own results/, shown relative to it
    monkeypatch.undo()
    assert tutorial.results_folder({}) == ROOT / "results"
    assert tutorial.shown_path(ROOT / "results" / "quick") == "results/quick"


def test_no_notebook_builds_a_results_path_from_the_package_location() -> None:
    # installed from the wheel, the package's parent is site-packages: results/ is found by results_folder instead
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        source = path.read_text(encoding="utf-8")
        assert "__file__" not in source, f"{path.name}: use adda_keras.tutorial.results_folder()"
        if "results/" in source and "results_folder" not in source:
            assert "RESULTS" not in source, f"{path.name} reads results/ without results_folder()"


def test_the_wheel_carries_the_bundled_mnist_where_the_library_looks() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^"share/adda_keras/mnist" = \[(.*)\]$', pyproject, re.MULTILINE)
    assert match, "pyproject.toml must install data/mnist as data files under share/adda_keras/mnist"
    files = re.findall(r'"([^"]+)"', match.group(1))
    assert all((ROOT / name).is_file() for name in files)
    assert {Path(name).name for name in files} >= {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    source = (ROOT / "adda_keras" / "data" / "mnist.py").read_text(encoding="utf-8")
    assert '"share" / "adda_keras" / "mnist"' in source
