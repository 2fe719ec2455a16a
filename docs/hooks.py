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
  of the notebooks (with each one's first sentence), with "Open in Colab"
  links built from ``repo_url`` (``extra.colab_base``, which this hook sets
  and ``overrides/main.html`` uses too; so is the header's ``repo_name``);
* gives every notebook page the outline of its rendered headings, inline code
  included (mkdocs-jupyter's own outline drops inline code);
* resolves links written ``[text](repo:path/in/repo)`` to files outside
  ``docs/``: to the site's page when the build has it (``results/README.md``,
  which docs/hooks_results.py adds), else to the file on the repository host,
  built from ``repo_url``;
* while the repository is not published (``extra.repo_published: false``,
  ``repo_url`` a placeholder), links to nothing there: no header link, no
  Colab links, and a ``repo:`` link to a file that the site lacks becomes its
  plain text; the placeholder stays in ``extra.repo_placeholder``;
* serves the "Open in Colab" badge image from the site
  (``assets/colab-badge.svg``) instead of Colab's host.
"""

from __future__ import annotations

import html
import json
import logging
import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

log = logging.getLogger("mkdocs.hooks.adda_keras")

NOTEBOOK_DIR = "notebooks"
NOTEBOOK_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_-]+\.ipynb$")
TUTORIALS_SECTION = "Tutorials"
TUTORIALS_PAGE = "tutorials.md"
TUTORIALS_MARKER = "<!-- tutorials-list -->"
BRANCH = "main"
_REPO_LINK = re.compile(r"\[([^\]]*)\]\(repo:([^)\s]+)\)")
#: the badge image of the notebooks' "Open in Colab" links, and the site's copy of it
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_ASSET = "assets/colab-badge.svg"
_GITHUB_URL = re.compile(r"^https://github\.com/(?P<path>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def _repo_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def notebook_paths(config: MkDocsConfig) -> list[Path]:
    """The tutorial notebooks that exist, ``notebooks/NN_topic.ipynb``, in order."""
    folder = _repo_root(config) / NOTEBOOK_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and NOTEBOOK_PATTERN.match(p.name))


def is_notebook_page(page: Page) -> bool:
    """Whether ``page`` is one of the tutorial notebooks that :func:`on_files` added."""
    src_uri = page.file.src_uri
    return src_uri.startswith(f"{NOTEBOOK_DIR}/") and NOTEBOOK_PATTERN.match(src_uri.rpartition("/")[2]) is not None


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


def _paragraphs(lines: list[str]) -> list[str]:
    """The blank-line separated paragraphs of ``lines``, each joined into one line."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def notebook_summary(path: Path) -> str:
    """The first sentence of the notebook's first paragraph of plain text, or ''.

    A paragraph spans several source lines; the sentence is taken from the
    whole paragraph, so it never stops at a line break (nor leaves an
    emphasis half open).
    """
    for paragraph in _paragraphs(_markdown_lines(path)):
        if paragraph.startswith(("#", "[![", "<", "|", "```", "!", ">", "- ", "* ")):
            continue
        sentence = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
        # A "|" would split the table cell, even inside a formula: leave such a sentence out.
        return "" if "|" in sentence else sentence
    return ""


class _NotebookHeadings(HTMLParser):
    """The ``(level, id, text)`` of the headings of a rendered notebook's markdown cells.

    Headings inside output areas (a displayed ``table.md``, say) are left
    out, as they are from the notebook's own outline; the heading's text
    keeps its inline code and drops the permalink anchor (``¶``).
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str, str]] = []
        self._open_divs: list[bool] = []  # per open <div>: does it start an output area?
        self._heading: tuple[int, str, list[str]] | None = None
        self._in_anchor = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "div":
            self._open_divs.append("jp-OutputArea" in classes)
        elif re.fullmatch(r"h[1-6]", tag) and attributes.get("id") and not any(self._open_divs):
            self._heading = (int(tag[1]), str(attributes["id"]), [])
        elif tag == "a" and self._heading is not None and "anchor-link" in classes:
            self._in_anchor = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._open_divs:
            self._open_divs.pop()
        elif tag == "a":
            self._in_anchor = False
        elif self._heading is not None and tag == f"h{self._heading[0]}":
            level, anchor, parts = self._heading
            self.headings.append((level, anchor, " ".join("".join(parts).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None and not self._in_anchor:
            self._heading[2].append(data)


def notebook_toc_tokens(content: str) -> list[dict[str, Any]]:
    """Nested table-of-contents tokens (as Python-Markdown's ``toc_tokens``) of a rendered notebook.

    mkdocs-jupyter builds its outline from a Markdown copy of the notebook
    from which it deletes every inline code span, so a heading such as
    ``## `D_G`: the detector`` appears as ": the detector" and links to an id
    that does not exist. This outline comes from the rendered headings
    themselves: their ids and their full text.
    """
    parser = _NotebookHeadings()
    parser.feed(content)
    roots: list[dict[str, Any]] = []
    open_tokens: list[dict[str, Any]] = []
    for level, anchor, text in parser.headings:
        token = {"level": level, "id": anchor, "name": html.escape(text, quote=False), "children": []}
        while open_tokens and open_tokens[-1]["level"] >= level:
            open_tokens.pop()
        (open_tokens[-1]["children"] if open_tokens else roots).append(token)
        open_tokens.append(token)
    return roots


def github_path(repo_url: str) -> str:
    """``owner/repo`` of the GitHub address ``repo_url``; :class:`PluginError` for any other address."""
    match = _GITHUB_URL.match(repo_url.strip())
    if match is None:
        raise PluginError(
            f"repo_url must be a GitHub address 'https://github.com/<owner>/<repo>' (Colab opens notebooks "
            f"from GitHub); got {repo_url!r}"
        )
    return match.group("path")


def colab_base(repo_url: str) -> str:
    """The "Open in Colab" address of ``notebooks/`` on the ``main`` branch of the GitHub repository ``repo_url``."""
    return f"https://colab.research.google.com/github/{github_path(repo_url)}/blob/{BRANCH}/{NOTEBOOK_DIR}/"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Derive the Colab links and the header's repository name from ``repo_url``; list the notebooks in the nav."""
    if config.repo_url and not config.extra.get("repo_published", False):
        # a placeholder address: keep it out of every link (the header's included)
        config.extra["repo_placeholder"] = config.repo_url.rstrip("/")
        config.repo_url = None
        config.repo_name = None
    if config.repo_url:
        config.extra["colab_base"] = colab_base(config.repo_url)
        if config.repo_name in (None, "GitHub"):  # unset: MkDocs would show "GitHub"
            config.repo_name = github_path(config.repo_url)
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
        # the .ipynb that mkdocs-jupyter publishes beside the page (raw HTML: a Markdown link would lead to the page)
        up = "../" if config.use_directory_urls else ""
        links = [f'<a href="{up}{NOTEBOOK_DIR}/{path.stem}/{path.name}" download>download</a>']
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

        def link(match: re.Match[str]) -> str:
            target = repo_link(match.group(2), page, config, files)
            return match.group(1) if target is None else f"[{match.group(1)}]({target})"

        markdown = _REPO_LINK.sub(link, markdown)
    return markdown


def repo_link(path: str, page: Page, config: MkDocsConfig, files: Files) -> str | None:
    """Where a ``repo:path`` link of ``page`` points: the page or file of the site, else the repository host.

    None (no link, the text only) while the repository address is a placeholder.
    """
    if files.get_file_from_path(path.split("#", 1)[0]) is not None:
        return posixpath.relpath(path, posixpath.dirname(page.file.src_uri) or ".")
    if not config.repo_url and config.extra.get("repo_placeholder"):
        return None
    if not config.repo_url:
        log.warning("%s links to repo:%s but mkdocs.yml sets no repo_url", page.file.src_uri, path)
        return path
    return f"{config.repo_url.rstrip('/')}/blob/{BRANCH}/{path}"


def on_page_content(content: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Notebook pages: the outline of the rendered headings (:func:`notebook_toc_tokens`); the site's badge image."""
    if is_notebook_page(page):
        page.toc = get_toc(notebook_toc_tokens(content))
    if BADGE_IMAGE in content:
        content = content.replace(BADGE_IMAGE, posixpath.relpath(BADGE_ASSET, posixpath.dirname(page.url) or "."))
    return content


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """``mkdocs serve``: rebuild when a notebook changes."""
    folder = _repo_root(config) / NOTEBOOK_DIR
    if folder.is_dir():
        server.watch(str(folder))
    return server
