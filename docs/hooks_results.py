"""MkDocs hook: the "Results" section of the site, built from the committed ``results/`` folder.

``results/`` at the repository root holds what the experiments wrote: the
honest reading ``results/README.md``, one folder per reproduced table
(``results/<preset>/<table>/table.md`` with ``roc_digit<N>.png`` figures
beside it), and notes such as ``results/tuning.md``. Rather than copying
numbers into ``docs/``, this hook, at every build,

* adds every Markdown file under ``results/`` to the build as a page, and
  every file that those pages show or link to (figures, CSVs) that lies
  under ``results/``; ``results/README.md`` becomes ``results/``, the
  section's first page;
* fills the nav's "Results" section: ``results/README.md``, then one
  sub-section per folder (its own pages, then its sub-folders; a folder with
  a single page is that page), then the other top-level pages, each titled
  by its first heading;
* appends the ROC figures of a folder (``roc_*.png``) to each page of that
  folder that does not show them already;
* points relative links of these pages that leave ``results/`` (a script, a
  notebook source) at the file on the repository host (``repo_url``), since
  the site does not contain them; while that address is a placeholder
  (``extra.repo_published: false``, see docs/hooks.py) such a link becomes
  its plain text.

New files (another table, ``results/attention_tuning.md``) appear on the
site without any change here; a page that links to a missing file fails the
strict build.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.adda_keras.results")

RESULTS_DIR = "results"
RESULTS_SECTION = "Results"
INDEX_PAGE = "README.md"
FIGURES = "roc_*.png"
BRANCH = "main"
#: ``](target)`` and ``](target "title")`` of Markdown links and images; group 1 is the target
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(\s+\"[^\"]*\")?\s*\)")
#: a whole Markdown link (not an image): group 1 its text, group 2 its target
_TEXT_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _repo_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def result_pages(root: Path) -> list[str]:
    """The Markdown files under ``root/results``, as repository paths, ``results/README.md`` first."""
    folder = root / RESULTS_DIR
    if not folder.is_dir():
        return []
    pages = sorted(p.relative_to(root).as_posix() for p in folder.rglob("*.md") if p.is_file())
    index = f"{RESULTS_DIR}/{INDEX_PAGE}"
    return sorted(pages, key=lambda page: page != index)


def local_target(page: str, target: str) -> str | None:
    """The repository path that the relative link ``target`` of ``page`` names; None for any other link."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith(("#", "/")):
        return None  # an address, an anchor on the page, or a site-absolute path
    path = target.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return None
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    return None if resolved.startswith("..") else resolved


def figures_of(root: Path, page: str) -> list[str]:
    """The ``roc_*.png`` figures in the folder of ``page``, as repository paths, in digit order."""
    folder = root / posixpath.dirname(page)

    def digit_order(path: Path) -> tuple[int, str]:
        numbers = re.findall(r"\d+", path.stem)
        return (int(numbers[-1]) if numbers else -1, path.name)

    return [p.relative_to(root).as_posix() for p in sorted(folder.glob(FIGURES), key=digit_order)]


def linked_files(root: Path, page: str) -> list[str]:
    """Files under ``results/`` other than pages that ``page`` links to or shows, and its folder's figures."""
    text = (root / page).read_text(encoding="utf-8")
    targets = [local_target(page, match.group(1)) for match in _LINK.finditer(text)]
    found = {
        target
        for target in targets
        if target is not None
        and target.startswith(f"{RESULTS_DIR}/")
        and not target.endswith(".md")
        and (root / target).is_file()
    }
    return sorted(found | set(figures_of(root, page)))


#: a page that a later one replaces says so near its top: ``> **Superseded** by [...](...)``
SUPERSEDED = re.compile(r"^> \*\*Superseded\*\*", re.MULTILINE)


def nav_titles(root: Path, pages: list[str]) -> dict[str, str]:
    """Nav titles that differ from a page's first heading: superseded pages, and titles that two pages share.

    A page whose first lines say ``> **Superseded**`` is titled "... (superseded)"; pages that would still share a
    title get the folder they sit in under ``results/`` appended ("table1-noisy (quick preset) · seeds").
    """
    titles: dict[str, str] = {}
    for page in pages:
        text = (root / page).read_text(encoding="utf-8")
        heading = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), None)
        if heading is None:
            continue
        head = "\n".join(text.splitlines()[:12])
        titles[page] = f"{heading} (superseded)" if SUPERSEDED.search(head) else heading
    counts: dict[str, int] = {}
    for title in titles.values():
        counts[title] = counts.get(title, 0) + 1
    for page, title in titles.items():
        if counts[title] > 1:
            parts = page.split("/")
            titles[page] = f"{title} · {parts[1] if len(parts) > 2 else RESULTS_DIR}"
    return {page: title for page, title in titles.items() if title != _first_heading(root, page)}


def _first_heading(root: Path, page: str) -> str | None:
    lines = (root / page).read_text(encoding="utf-8").splitlines()
    return next((line[2:].strip() for line in lines if line.startswith("# ")), None)


def _is_page(entry: Any) -> bool:
    return isinstance(entry, str) or (isinstance(entry, dict) and len(entry) == 1 and isinstance(*entry.values(), str))


def _page_of(entry: Any) -> str:
    return entry if isinstance(entry, str) else next(iter(entry.values()))


def _nav_entries(pages: list[str], folder: str, titles: dict[str, str] | None = None) -> list[Any]:
    """Nav entries for the pages under ``folder``: its own pages, then one entry per sub-folder."""
    titles = titles or {}
    own = [page for page in pages if posixpath.dirname(page) == folder]
    nested_paths = [page[len(folder) + 1 :] for page in pages if page.startswith(f"{folder}/")]
    children = sorted({path.split("/", 1)[0] for path in nested_paths if "/" in path})
    entries: list[Any] = [{titles[page]: page} if page in titles else page for page in own]
    for child in children:
        sub = f"{folder}/{child}"
        nested = _nav_entries([page for page in pages if page.startswith(f"{sub}/")], sub, titles)
        entries.append(nested[0] if len(nested) == 1 and _is_page(nested[0]) else {child: nested})
    return entries


def results_nav(pages: list[str], titles: dict[str, str] | None = None) -> list[Any]:
    """The "Results" section: the index page, the sub-folders' sections, then the other top-level pages."""
    entries = _nav_entries(pages, RESULTS_DIR, titles)
    index = [entry for entry in entries if _is_page(entry) and _page_of(entry) == f"{RESULTS_DIR}/{INDEX_PAGE}"]
    folders = [entry for entry in entries if not _is_page(entry) or posixpath.dirname(_page_of(entry)) != RESULTS_DIR]
    others = [entry for entry in entries if entry not in index and entry not in folders]
    return [*index, *folders, *others]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Fill the nav's "Results" section (drop it when there are no results)."""
    pages = result_pages(_repo_root(config))
    nav = config.nav or []
    for position, item in enumerate(nav):
        if isinstance(item, dict) and RESULTS_SECTION in item:
            if pages:
                item[RESULTS_SECTION] = results_nav(pages, nav_titles(_repo_root(config), pages))
            else:
                log.info("no Markdown files under %s/: the %r section is left out", RESULTS_DIR, RESULTS_SECTION)
                del nav[position]
            break
    else:
        if pages:
            log.warning("nav has no %r section; the results pages are not in the nav", RESULTS_SECTION)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the results pages and the files they show or link to."""
    root = _repo_root(config)
    wanted: list[str] = []
    for page in result_pages(root):
        wanted += [page, *linked_files(root, page)]
    for src_uri in dict.fromkeys(wanted):
        if files.get_file_from_path(src_uri) is None:
            files.append(File(src_uri, str(root), config.site_dir, config.use_directory_urls))
    return files


def figure_gallery(page: str, figures: list[str]) -> str:
    """Markdown that shows ``figures`` (repository paths) on ``page``."""
    folder = posixpath.dirname(page)
    images = " ".join(
        f"![ROC curves: {Path(figure).stem}]({posixpath.relpath(figure, folder)}){{ .results-figure loading=lazy }}"
        for figure in figures
    )
    return (
        "\n\n## ROC curves\n\n"
        "The ROC figures saved beside this page by the run that made it; each figure's title names the normal "
        "digit (and the known anomaly, if any), its legend gives each method's AUROC.\n\n"
        f"{images}\n"
    )


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Results pages: show the folder's figures; send links that leave the site to the repository."""
    src_uri = page.file.src_uri
    if not src_uri.startswith(f"{RESULTS_DIR}/"):
        return markdown
    root = _repo_root(config)
    base = f"{str(config.repo_url or '').rstrip('/')}/blob/{BRANCH}/"

    def rewrite(match: re.Match[str]) -> str:
        target = local_target(src_uri, match.group(1))
        if target is None or files.get_file_from_path(target) is not None or not (root / target).exists():
            return match.group(0)
        if not config.repo_url:
            log.warning("%s links to %s, which is not on the site, and mkdocs.yml sets no repo_url", src_uri, target)
            return match.group(0)
        fragment = match.group(1)[len(match.group(1).split("#", 1)[0]) :]
        return f"]({base}{target}{fragment}{match.group(2) or ''})"

    if not config.repo_url and config.extra.get("repo_placeholder"):

        def unlink(match: re.Match[str]) -> str:
            target = local_target(src_uri, match.group(2))
            leaves = target is not None and files.get_file_from_path(target) is None and (root / target).exists()
            return match.group(1) if leaves else match.group(0)

        markdown = _TEXT_LINK.sub(unlink, markdown)
    markdown = _LINK.sub(rewrite, markdown)
    shown = {local_target(src_uri, match.group(1)) for match in _LINK.finditer(markdown)}
    figures = [figure for figure in figures_of(root, src_uri) if figure not in shown]
    return markdown + figure_gallery(src_uri, figures) if figures else markdown


#: tables of at least this many columns are wrapped in ``<div class="wide-table">`` (docs/stylesheets/extra.css)
WIDE_TABLE_COLUMNS = 12
_TABLE = re.compile(r"<table>.*?</table>", re.DOTALL)


def on_page_content(content: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Results pages: wrap wide tables, so that the stylesheet can fit their columns to the page."""
    if not page.file.src_uri.startswith(f"{RESULTS_DIR}/"):
        return content

    def wrap(match: re.Match[str]) -> str:
        header = match.group(0).split("</tr>", 1)[0]
        wide = header.count("<th") >= WIDE_TABLE_COLUMNS
        return f'<div class="wide-table">{match.group(0)}</div>' if wide else match.group(0)

    return _TABLE.sub(wrap, content)


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    """``mkdocs serve``: rebuild when a results file changes."""
    folder = _repo_root(config) / RESULTS_DIR
    if folder.is_dir():
        server.watch(str(folder))
    return server
