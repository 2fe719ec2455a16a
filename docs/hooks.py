"""MkDocs hooks: bring the tutorial notebooks into the site, resolve ``repo:`` links.

The notebooks are jupytext pairs in ``notebooks/`` at the repository root,
outside ``docs/``, because that is where a reader opens them (Jupyter, Colab).
Rather than a symlink (which Windows checkouts and some zip exports turn into a
plain file), this hook

* adds every ``notebooks/NN_*.ipynb`` that exists to the build, before
  mkdocs-jupyter sees the file list, so mkdocs-jupyter renders it with the
  outputs stored in the ``.ipynb`` (``execute: false``);
* appends those notebooks to the "Tutorials" section of ``nav`` (titled by the
  first ``# heading`` of each notebook), so the nav never names a missing file
  and ``mkdocs build --strict`` passes whether or not notebooks exist yet;
* fills the ``<!-- tutorials-list -->`` marker of ``tutorials.md`` with a table
  of the notebooks, with "Open in Colab" links built from ``extra.colab_base``;
* rewrites links written ``[text](repo:path/in/repo)`` to the file on the
  repository host, built from ``repo_url``, for files outside ``docs/`` (such
  as ``results/README.md``) that the site does not contain.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.adda_keras")

NOTEBOOK_DIR = "notebooks"
NOTEBOOK_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_-]+\.ipynb$")
TUTORIALS_SECTION = "Tutorials"
TUTORIALS_PAGE = "tutorials.md"
TUTORIALS_MARKER = "<!-- tutorials-list -->"
BRANCH = "main"
_REPO_LINK = re.compile(r"\]\(repo:([^)\s]+)\)")


def _repo_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def notebook_paths(config: MkDocsConfig) -> list[Path]:
    """The tutorial notebooks that exist, ``notebooks/NN_topic.ipynb``, in order."""
    folder = _repo_root(config) / NOTEBOOK_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and NOTEBOOK_PATTERN.match(p.name))


def _markdown_lines(path: Path) -> list[str]:
    """The lines of a notebook's markdown cells; empty if it cannot be read."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError) as error:
        log.warning("cannot read notebook %s: %s", path, error)
        return []
    lines: list[str] = []
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            lines += ("".join(source) if isinstance(source, list) else source).splitlines()
    return lines


def notebook_title(path: Path) -> str:
    """The first ``# heading`` of the notebook, else a title made from its file name."""
    for line in _markdown_lines(path):
        if line.startswith("# "):
            return line[2:].strip().strip("#").strip()
    number, _, topic = path.stem.partition("_")
    return f"{number} · {topic.replace('_', ' ').capitalize()}"


def notebook_summary(path: Path) -> str:
    """The first sentence of the notebook's first paragraph of plain text, or ''."""
    for line in _markdown_lines(path):
        text = line.strip()
        if not text or text.startswith(("#", "[![", "<", "|", "```", "!", ">")):
            continue
        sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
        # A "|" would split the table cell, even inside a formula: leave such a sentence out.
        return "" if "|" in sentence else sentence
    return ""


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Append the existing notebooks to the nav's "Tutorials" section."""
    entries = [{notebook_title(p): f"{NOTEBOOK_DIR}/{p.name}"} for p in notebook_paths(config)]
    for item in config.nav or []:
        if isinstance(item, dict) and TUTORIALS_SECTION in item:
            section = item[TUTORIALS_SECTION]
            if not isinstance(section, list):
                section = [section]
            item[TUTORIALS_SECTION] = [*section, *entries]
            break
    else:
        if entries:
            log.warning("nav has no %r section; the notebooks are not in the nav", TUTORIALS_SECTION)
    return config


@event_priority(100)  # before mkdocs-jupyter wraps the notebook files
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the notebooks (which live outside docs_dir) to the files of the build."""
    root = str(_repo_root(config))
    for path in notebook_paths(config):
        src_uri = f"{NOTEBOOK_DIR}/{path.name}"
        if files.get_file_from_path(src_uri) is not None:
            continue  # docs/notebooks/ already provides it (e.g. a symlink)
        files.append(File(src_uri, root, config.site_dir, config.use_directory_urls))
    return files


def tutorials_table(config: MkDocsConfig) -> str:
    """Markdown table of the notebooks, or a note that there are none yet."""
    paths = notebook_paths(config)
    if not paths:
        return (
            '!!! note "No notebook yet"\n'
            f"    The `{NOTEBOOK_DIR}/` folder holds no `NN_topic.ipynb` notebook yet; "
            "they appear here as soon as they are added.\n"
        )
    colab = str(config.extra.get("colab_base", "")).rstrip("/")
    repo = str(config.repo_url or "").rstrip("/")
    rows = ["| notebook | what it shows | run it |", "|---|---|---|"]
    for path in paths:
        links = []
        if colab:
            links.append(f"[Open in Colab]({colab}/{path.name})")
        if repo:
            links.append(f"[source (`.py`)]({repo}/blob/{BRANCH}/{NOTEBOOK_DIR}/{path.with_suffix('.py').name})")
        rows.append(
            f"| [{notebook_title(path)}]({NOTEBOOK_DIR}/{path.name}) | {notebook_summary(path)} | {' · '.join(links)} |"
        )
    return "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the tutorials list and turn ``repo:`` links into repository-host links."""
    if page.file.src_uri == TUTORIALS_PAGE and TUTORIALS_MARKER in markdown:
        markdown = markdown.replace(TUTORIALS_MARKER, tutorials_table(config))
    if "](repo:" in markdown:
        if not config.repo_url:
            log.warning("%s uses repo: links but mkdocs.yml sets no repo_url", page.file.src_uri)
        else:
            base = f"{config.repo_url.rstrip('/')}/blob/{BRANCH}/"
            markdown = _REPO_LINK.sub(lambda m: f"]({base}{m.group(1)})", markdown)
    return markdown


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """``mkdocs serve``: rebuild when a notebook changes."""
    folder = _repo_root(config) / NOTEBOOK_DIR
    if folder.is_dir():
        server.watch(str(folder))
    return server
