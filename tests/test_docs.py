"""The documentation site builds with ``mkdocs build --strict`` and has its key pages.

Two builds, a few seconds each: the repository as it is, and a scratch copy
with a small notebook and a small ``results/`` folder, which checks that
notebooks and results outside ``docs/`` reach the site (docs/hooks.py,
docs/hooks_results.py) whatever they hold. Where a Chromium binary is
installed, every page of the first build is also loaded in headless
Chromium, offline (one browser run for all of them), to check what a reader
sees: formulas typeset, no table or printed output clipped
(scripts/screenshot_docs.py has the probe).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS_PACKAGES = ("mkdocs", "material", "mkdocs_jupyter", "mkdocstrings", "mkdocstrings_handlers.python", "mathjax")


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


def _load(path: Path) -> ModuleType:
    """Import the Python file ``path`` (a docs hook or a script) as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
    pages = ("index.html", "method/index.html", "data/index.html", "tutorials/index.html", "reproduce/index.html")
    for page in (*pages, "results/index.html"):
        assert (site / page).is_file(), f"{page} missing from the built site"
    assert "arithmatex" in (site / "method/index.html").read_text(encoding="utf-8"), "formulas not wrapped for MathJax"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "Headline results" in home and "kNN distance (pixels)" in home, "headline results missing from the home page"
    assert 'href="results/"' in home, "the home page should link to the site's Results page"
    assert "blob/main/results/README.md" not in home, "the home page still sends readers to the repository"


def test_the_site_ships_mathjax_and_loads_nothing_from_other_hosts(site: Path) -> None:
    mathjax = site / "javascripts" / "mathjax"
    assert (mathjax / "tex-mml-svg.js").is_file(), "MathJax is not in the site (docs/hooks_mathjax.py)"
    assert (mathjax / "input" / "tex" / "extensions" / "boldsymbol.js").is_file(), "TeX extensions missing"
    method = (site / "method/index.html").read_text(encoding="utf-8")
    assert 'src="../javascripts/mathjax/tex-mml-svg.js"' in method
    external = re.compile(r'<script[^>]*\ssrc="(?:https?:)?//|<link[^>]*\shref="(?:https?:)?//[^"]*"[^>]*stylesheet')
    offenders = [
        str(page.relative_to(site)) for page in site.rglob("*.html") if external.search(page.read_text("utf-8"))
    ]
    assert not offenders, f"pages that load a script or a stylesheet from another host: {offenders}"


def test_the_results_section_shows_the_committed_results(site: Path) -> None:
    """Every Markdown file under results/ is a page, and each table page shows its folder's ROC figures."""
    for source in sorted((REPO / "results").rglob("*.md")):
        relative = source.relative_to(REPO).with_suffix("")
        page = site / relative.parent / "index.html" if source.name == "README.md" else site / relative / "index.html"
        assert page.is_file(), f"{source.relative_to(REPO)} did not become a page"
        figures = sorted(source.parent.glob("roc_*.png"))
        html = page.read_text(encoding="utf-8")
        for figure in figures:
            assert f'src="../{figure.name}"' in html, f"{figure.name} is not shown on the page of {source.name}"
            assert (site / figure.relative_to(REPO)).is_file()
    overview = (site / "results/index.html").read_text(encoding="utf-8")
    assert 'href="quick/table1-noisy/table/"' in overview, "results/README.md's links should stay on the site"


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
    assert "METHOD.md" not in scoring, "the scoring docs cite a file that the repository does not have"


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


def test_the_repository_address_is_set_once_and_never_linked_while_a_placeholder(site: Path) -> None:
    """``repo_url`` is the only line of mkdocs.yml naming the repository; unpublished, no page links to it."""
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    repo_url = re.search(r"^repo_url:\s*(\S+)", config, re.MULTILINE).group(1)
    repository = repo_url.removeprefix("https://github.com/")
    naming = [line for line in config.splitlines() if repository in line and not line.lstrip().startswith("#")]
    assert naming == [f"repo_url: {repo_url}"], f"mkdocs.yml names the repository elsewhere too: {naming}"
    hooks = _load(REPO / "docs" / "hooks.py")
    assert (
        hooks.colab_base("https://github.com/o/r.git")
        == "https://colab.research.google.com/github/o/r/blob/main/notebooks/"
    )
    with pytest.raises(hooks.PluginError, match="GitHub address"):
        hooks.colab_base("https://gitlab.com/o/r")
    if re.search(r"^\s+repo_published:\s*true", config, re.MULTILINE):
        return  # published: the scratch build of test_notebooks_outside_docs_reach_the_site checks the links
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert f'href="{repo_url}' not in text and "colab.research.google.com/github" not in text, page
        for match in re.finditer(re.escape(repository), text):  # named only as a placeholder (the set-up cell)
            assert "placeholder" in text[match.end() : match.end() + 300], f"{page}: {text[match.start() - 80 :][:200]}"
    tutorials = (site / "tutorials" / "index.html").read_text(encoding="utf-8")
    assert 'href="../notebooks/00_overview/00_overview.ipynb" download' in tutorials
    assert "adda_keras-notebooks.zip" in tutorials and "JupyterLab" in tutorials


def test_repo_links_point_to_the_site_or_the_repository(site: Path) -> None:
    html = (site / "reproduce/index.html").read_text(encoding="utf-8")
    assert 'href="../results/"' in html, "repo:results/README.md should lead to the site's Results page"
    assert "repo:" not in html


def test_notebook_outline_keeps_inline_code(site: Path) -> None:
    """The table of contents of a notebook page uses the rendered headings, ids and inline code included."""
    html = (site / "notebooks/05_ada_semi_supervised/index.html").read_text(encoding="utf-8")
    toc = html[html.index('data-md-component="toc"') :]
    entries = re.findall(
        r'<a href="#([^"]+)" class="md-nav__link">\s*<span class="md-ellipsis">\s*([^<]*?)\s*</span>', toc
    )
    assert entries, "no table of contents on the notebook page"
    for anchor, title in entries:
        assert f'id="{anchor}"' in html, f"the outline links to #{anchor}, which the page does not have"
        assert title and title[0].isalnum(), f"outline entry {title!r} lost the start of its heading"
    hooks = _load(REPO / "docs" / "hooks.py")
    content = (
        '<h1 id="t">Title<a class="anchor-link" href="#t">¶</a></h1>'
        '<h2 id="d_g-x"><code>D_G</code>: x &amp; y<a class="anchor-link" href="#d_g-x">¶</a></h2>'
        '<div class="jp-OutputArea"><div><h1 id="shown">A displayed table.md</h1></div></div>'
        '<h3 id="deep">Deep</h3><h2 id="next">Next</h2>'
    )
    tokens = hooks.notebook_toc_tokens(content)
    assert [(t["id"], t["name"]) for t in tokens] == [("t", "Title")]
    children = tokens[0]["children"]
    assert [(c["id"], c["name"]) for c in children] == [("d_g-x", "D_G: x &amp; y"), ("next", "Next")]
    assert [c["id"] for c in children[0]["children"]] == ["deep"]


def test_tutorial_summaries_are_whole_sentences(site: Path) -> None:
    html = (site / "tutorials/index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr>\s*<td><a [^>]*>[^<]*</a></td>\s*<td>(.*?)</td>", html, re.DOTALL)
    assert len(rows) == len(list((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    for summary in rows:
        text = re.sub(r"<[^>]+>", "", summary).strip()
        assert text.endswith((".", "!", "?")), f"summary cut mid-sentence: {text!r}"
        assert "*" not in text, f"stray emphasis marker in {text!r}"


def test_every_notebook_has_a_page(site: Path) -> None:
    for notebook in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        page = site / "notebooks" / notebook.stem / "index.html"
        assert page.is_file(), f"{notebook.name} did not become a page"
        assert (page.parent / notebook.name).is_file(), "include_source should publish the .ipynb beside the page"


def _sample_notebook(title: str) -> dict:
    """A minimal nbformat-4 notebook with one stored output (no kernel needed)."""
    return {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": [
                    f"# {title}\n",
                    "\n",
                    "It prints *one line\n",
                    "of output*, then stops. More text.\n",
                    "\n",
                    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://example.org)\n",
                ],
            },
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
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")  # as published: Colab and repository links
    (project / "mkdocs.yml").write_text(re.sub(r"repo_published:\s*false", "repo_published: true", config))
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "docs", project / "docs", ignore=ignore)
    shutil.copytree(REPO / "adda_keras", project / "adda_keras", ignore=ignore)
    (project / "results" / "quick").mkdir(parents=True)  # the home page includes the headline results
    shutil.copy2(REPO / "results" / "quick" / "summary.md", project / "results" / "quick" / "summary.md")
    _sample_results(project)
    (project / "notebooks").mkdir()
    (project / "notebooks" / "98_sample.ipynb").write_text(json.dumps(_sample_notebook("Sample tutorial")))
    (project / "notebooks" / "99_sample.py").write_text("# not a notebook: ignored\n")
    (project / "dist").mkdir()  # what `make dist` writes: the site offers both files
    (project / "dist" / "adda_keras-9.9.9-py3-none-any.whl").write_bytes(b"PK wheel")
    (project / "dist" / "adda_keras-notebooks.zip").write_bytes(b"PK zip")

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
    assert (site / "downloads" / "adda_keras-9.9.9-py3-none-any.whl").read_bytes() == b"PK wheel"
    assert (site / "downloads" / "adda_keras-notebooks.zip").read_bytes() == b"PK zip"
    assert 'href="../downloads/adda_keras-9.9.9-py3-none-any.whl"' in tutorials
    assert 'href="../downloads/adda_keras-notebooks.zip"' in tutorials
    assert "adda_keras-9.9.9-py3-none-any.whl[cpu]" in tutorials and "make dist" not in tutorials
    assert "It prints <em>one line of output</em>, then stops." in tutorials, "summary is not the whole sentence"
    assert 'src="../../assets/colab-badge.svg"' in html and "colab.research.google.com/assets" not in html
    assert (site / "assets" / "colab-badge.svg").is_file(), "the site serves its own badge image"

    # results/: every page, the figures beside a table, links that leave results/ go to the repository
    overview = (site / "results" / "index.html").read_text(encoding="utf-8")
    assert 'href="paper/table9/table/"' in overview and 'href="notes/"' in overview
    assert 'href="https://github.com/adda-keras/adda_keras/blob/main/scripts/tool.py#usage"' in overview
    table = (site / "results" / "paper" / "table9" / "table" / "index.html").read_text(encoding="utf-8")
    shown = re.findall(r'<img [^>]*src="\.\./(roc_digit\d+\.png)"', table)
    assert shown == ["roc_digit2.png", "roc_digit10.png"], "figures missing or not in digit order"
    assert (site / "results" / "paper" / "table9" / "roc_digit10.png").is_file()
    assert (site / "results" / "paper" / "runs.csv").is_file(), "a file that a results page links to is missing"
    nav = (site / "index.html").read_text(encoding="utf-8")
    assert nav.index("Sample results") < nav.index("A new table") < nav.index("Notes"), "Results nav out of order"
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="results/"' in home, "repo:results/README.md should lead to the site's Results page"


def test_the_tutorials_page_offers_the_wheel_and_the_zip_or_says_how_to_build_them(site: Path) -> None:
    tutorials = (site / "tutorials" / "index.html").read_text(encoding="utf-8")
    wheels = sorted((REPO / "dist").glob("adda_keras-*-py3-none-any.whl"))
    if wheels and (REPO / "dist" / "adda_keras-notebooks.zip").is_file():
        assert (site / "downloads" / wheels[-1].name).is_file(), "make docs copies dist/ into the site"
        assert f'href="../downloads/{wheels[-1].name}"' in tutorials
    else:
        assert "<code>make dist</code>" in tutorials and 'href="../downloads/' not in tutorials
    for route in ("Colab", "Laptop (CPU)", "Kaggle or another GPU machine"):
        assert f"<strong>{route}</strong>" in tutorials, f"no install line for {route}"
    assert re.search(r"adda_keras-[\w.]+-py3-none-any\.whl\[cpu\]", tutorials)
    assert re.search(r"adda_keras-[\w.]+-py3-none-any\.whl\[gpu\]", tutorials)


def test_the_downloads_section_without_dist_builds_names_make_dist(tmp_path: Path) -> None:
    hooks = _load(REPO / "docs" / "hooks_downloads.py")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "adda-keras"\nversion = "1.2.3"\n')
    without = hooks.downloads_markdown(tmp_path)
    assert "`make dist`" in without and "](downloads/" not in without
    assert 'pip install "adda_keras-1.2.3-py3-none-any.whl[cpu]"' in without
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "adda_keras-1.2.3-py3-none-any.whl").write_bytes(b"")
    assert "`adda_keras-notebooks.zip`" in hooks.downloads_markdown(tmp_path)  # the zip alone is missing
    (tmp_path / "dist" / "adda_keras-notebooks.zip").write_bytes(b"")
    both = hooks.downloads_markdown(tmp_path)
    assert "](downloads/adda_keras-1.2.3-py3-none-any.whl)" in both and "](downloads/adda_keras-notebooks.zip)" in both
    assert "make dist" not in both


def _sample_results(project: Path) -> None:
    """A small results/ folder with pages, figures and links, as a future table would add."""
    results = project / "results"
    (results / "paper" / "table9").mkdir(parents=True)
    (results / "README.md").write_text(
        "# Sample results\n\n[The new table](paper/table9/table.md), [notes](notes.md), "
        "[the raw runs](paper/runs.csv) and [the tool](../scripts/tool.py#usage).\n"
    )
    (results / "notes.md").write_text("# Notes\n\nNothing yet.\n")
    (results / "paper" / "runs.csv").write_text("method,auroc\nada,0.5\n")
    (results / "paper" / "table9" / "table.md").write_text(
        "# A new table\n\n| method | mean |\n|---|---|\n| ada | 0.5 |\n"
    )
    png = (REPO / "docs" / "assets" / "noise.png").read_bytes()
    for digit in (10, 2):
        (results / "paper" / "table9" / f"roc_digit{digit}.png").write_bytes(png)
    (project / "scripts").mkdir()
    (project / "scripts" / "tool.py").write_text("# a script that results/README.md links to\n")


#: problems the browser check knows about, on pages this work does not own: page -> the start of the problem's text.
#: The test fails if such a problem disappears (then remove it here) or another one appears.
#: page -> the start of a problem known and accepted there (none now: notebook 07's clipped CSV lines, the last
#: entry, became a short table)
KNOWN_PROBLEMS: dict[str, str] = {}


def test_every_page_renders_in_a_real_browser(site: Path) -> None:
    """Headless Chromium, offline, on every page: formulas typeset, nothing clipped, full-width notebooks."""
    shots = _load(REPO / "scripts" / "screenshot_docs.py")
    chromium = shots.chromium_path()
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian/Ubuntu: apt-get install chromium); the browser check is skipped")
    pages = shots.site_pages(site)
    assert len(pages) >= 40 and "method/" in pages and "notebooks/08_localisation/" in pages
    reports = shots.inspect_pages(chromium, site, pages)
    silent = [page for page, report in reports.items() if report is None]
    assert not silent, f"the probe did not report on {silent}"
    assert reports["method/"]["formulas"] >= 40, "MathJax did not typeset the method page"
    assert reports["notebooks/06_results/"]["notebook"], "the probe did not recognise a notebook page"
    solutions = {page: report["solutions"] for page, report in reports.items() if page.startswith("notebooks/")}
    assert all(solutions[page] >= 2 for page in solutions if "07_own_images" not in page), (
        f"exercise solutions not folded into closed boxes (docs/javascripts/solutions.js): {solutions}"
    )
    found = {page: shots.problems(report) for page, report in reports.items()}
    for page, start in KNOWN_PROBLEMS.items():
        known = [problem for problem in found.get(page, []) if problem.startswith(start)]
        assert known, f"{page}: the known problem {start!r} is gone: remove it from KNOWN_PROBLEMS"
        found[page] = [problem for problem in found[page] if problem not in known]
    found = {page: problems for page, problems in found.items() if problems}
    assert not found, f"problems a reader would see: {found}"


def test_results_nav_marks_superseded_pages_and_tells_equal_titles_apart(tmp_path: Path) -> None:
    hooks = _load(REPO / "docs" / "hooks_results.py")
    pages = {
        "results/tuning.md": "# Tuning\n\n> **Superseded** by [the rerun](rerun/tuning.md).\n",
        "results/rerun/tuning.md": "# Tuning\n\nThe rerun.\n",
        "results/quick/t1/table.md": "# t1 (quick)\n",
        "results/seeds/quick/t1/table.md": "# t1 (quick)\n",
        "results/notes.md": "# Notes\n",
    }
    for page, text in pages.items():
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text(text)
    titles = hooks.nav_titles(tmp_path, sorted(pages))
    assert titles == {
        "results/tuning.md": "Tuning (superseded)",
        "results/quick/t1/table.md": "t1 (quick) · quick",
        "results/seeds/quick/t1/table.md": "t1 (quick) · seeds",
    }
    nav = hooks.results_nav(sorted(pages), titles)
    assert {"Tuning (superseded)": "results/tuning.md"} in nav and "results/notes.md" in nav


def test_no_list_item_is_swallowed_into_the_paragraph_before_it(site: Path) -> None:
    """A Markdown list item after an indented block renders as text ("- **AnoVAEGAN**", "4. **What ...") unless a
    blank line separates them; no page may show one."""
    swallowed = re.compile(r"\n(?:- |\d\. )<strong>")
    found = []
    for page in site.rglob("*.html"):
        text = re.sub(r"<pre.*?</pre>|<code.*?</code>", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
        found += [f"{page.relative_to(site)}: {text[m.start() : m.start() + 60]!r}" for m in swallowed.finditer(text)]
    assert not found, found
