"""The documentation site builds with ``mkdocs build --strict`` and has its key pages.

Two builds, a few seconds each: the repository as it is, and a scratch copy
with a small notebook, which checks that notebooks outside ``docs/`` reach the
site (docs/hooks.py) before the real tutorials exist.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS_PACKAGES = ("mkdocs", "material", "mkdocs_jupyter", "mkdocstrings", "mkdocstrings_handlers.python")


def _missing_packages() -> list[str]:
    missing = []
    for name in DOCS_PACKAGES:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except ModuleNotFoundError:
            missing.append(name)
    return missing


pytestmark = pytest.mark.skipif(
    bool(_missing_packages()),
    reason=f"documentation tools not installed ({', '.join(_missing_packages())}); `make setup` installs them",
)


def build_site(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """Run ``mkdocs build --strict`` for the project folder ``project`` into ``site``."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_built(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's site, built once for this module."""
    site = tmp_path_factory.mktemp("docs") / "site"
    assert_built(build_site(REPO, site))
    return site


def test_key_pages_exist(site: Path) -> None:
    for page in ("index.html", "method/index.html", "data/index.html", "tutorials/index.html", "reproduce/index.html"):
        assert (site / page).is_file(), f"{page} missing from the built site"
    assert "arithmatex" in (site / "method/index.html").read_text(encoding="utf-8"), "formulas not wrapped for MathJax"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Headline results" in home and "kNN distance (pixels)" in home, "headline results missing from the home page"


def test_data_page_shows_the_noise_figure(site: Path) -> None:
    html = (site / "data/index.html").read_text(encoding="utf-8")
    assert "assets/noise.png" in html
    figure = site / "assets" / "noise.png"
    assert figure.is_file()
    assert figure.stat().st_size < 500_000, "docs figures should stay small (regenerate with --dpi 100)"


def test_api_pages_render_the_library(site: Path) -> None:
    for module in ("detectors", "attention", "scoring", "evaluation", "data", "models", "training"):
        html = (site / "api" / module / "index.html").read_text(encoding="utf-8")
        assert f'id="adda_keras.{module}"' in html, f"api/{module} does not document adda_keras.{module}"
    scoring = (site / "api/scoring/index.html").read_text(encoding="utf-8")
    assert 'id="adda_keras.scoring.ada_score"' in scoring
    assert ":func:" not in scoring, "Sphinx roles were not turned into links"


def test_api_reference_covers_every_module() -> None:
    """Each module of the library has a ``::: module`` block on some page of docs/api/."""
    documented = set()
    for page in (REPO / "docs" / "api").glob("*.md"):
        documented |= {line[4:].strip() for line in page.read_text(encoding="utf-8").splitlines() if line[:4] == "::: "}
    package = REPO / "adda_keras"
    modules = {
        ".".join(("adda_keras", *path.relative_to(package).with_suffix("").parts)).removesuffix(".__init__")
        for path in package.rglob("*.py")
        if not path.name.startswith("_") or path.name == "__init__.py"
    }
    modules -= {"adda_keras", "adda_keras.cli"}  # the package's exports are on api/index.md; the CLI on reproduce.md
    missing = sorted(modules - documented)
    assert not missing, f"add `::: module` blocks for {missing} to a page in docs/api/ (and to the nav if it is new)"


def test_colab_base_matches_repo_url() -> None:
    """``extra.colab_base`` repeats ``repo_url``; the two must name the same repository."""
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    repository = config["repo_url"].removeprefix("https://github.com/").strip("/")
    expected = f"https://colab.research.google.com/github/{repository}/blob/main/notebooks/"
    assert config["extra"]["colab_base"] == expected


def test_repo_links_point_to_the_repository(site: Path) -> None:
    html = (site / "reproduce/index.html").read_text(encoding="utf-8")
    assert "https://github.com/adda-keras/adda_keras/blob/main/results/README.md" in html
    assert "repo:" not in html


def test_every_notebook_has_a_page(site: Path) -> None:
    for notebook in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        page = site / "notebooks" / notebook.stem / "index.html"
        assert page.is_file(), f"{notebook.name} did not become a page"
        assert (page.parent / notebook.name).is_file(), "include_source should publish the .ipynb beside the page"


def _sample_notebook(title: str) -> dict:
    """A minimal nbformat-4 notebook with one stored output (no kernel needed)."""
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": [f"# {title}\n", "\n", "It prints one line.\n"]},
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": ["stored output 42\n"]}],
                "source": ["print('stored output 42')"],
            },
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_notebooks_outside_docs_reach_the_site(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(REPO / "mkdocs.yml", project / "mkdocs.yml")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "docs", project / "docs", ignore=ignore)
    shutil.copytree(REPO / "adda_keras", project / "adda_keras", ignore=ignore)
    (project / "results" / "quick").mkdir(parents=True)  # the home page includes the headline results
    shutil.copy2(REPO / "results" / "quick" / "summary.md", project / "results" / "quick" / "summary.md")
    (project / "notebooks").mkdir()
    (project / "notebooks" / "98_sample.ipynb").write_text(json.dumps(_sample_notebook("Sample tutorial")))
    (project / "notebooks" / "99_sample.py").write_text("# not a notebook: ignored\n")

    site = tmp_path / "site"
    assert_built(build_site(project, site))

    page = site / "notebooks" / "98_sample" / "index.html"
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    assert "stored output 42" in html, "the stored output should be rendered (execute: false)"
    assert (page.parent / "98_sample.ipynb").is_file()
    assert 'href="98_sample.ipynb"' in html, "download button missing (docs/overrides/main.html)"
    assert "Sample tutorial" in (site / "index.html").read_text(encoding="utf-8"), "notebook missing from the nav"
    tutorials = (site / "tutorials" / "index.html").read_text(encoding="utf-8")
    assert "../notebooks/98_sample/" in tutorials
    assert "https://colab.research.google.com/github/adda-keras/adda_keras/blob/main/notebooks/98_sample.ipynb" in (
        tutorials
    )
    assert not (site / "notebooks" / "99_sample").exists()
