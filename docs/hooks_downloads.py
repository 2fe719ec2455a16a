"""MkDocs hook: offer the wheel and the notebooks zip of ``make dist`` as downloads of the site.

A reader who has only the site (no repository address exists yet) needs two
files to run the tutorials: the wheel ``adda_keras-<version>-py3-none-any.whl``
(the library and the bundled MNIST) and ``adda_keras-notebooks.zip`` (the
notebooks with their stored outputs, and the result tables they read). Both
are built into ``dist/`` by ``make dist`` and are not committed; ``make docs``
runs ``make dist`` first. At every build this hook

* adds the two files that ``dist/`` holds to the site, under ``downloads/``
  (copied, never generated here);
* fills the ``<!-- downloads -->`` marker of ``tutorials.md`` with links to
  them and one install line per route (Colab, a laptop's CPU, Kaggle or
  another GPU machine), the wheel's file name included.

When ``dist/`` lacks them (a plain ``mkdocs build``), the page says how to
get them (``make dist``) and links nothing, so ``mkdocs build --strict``
passes either way.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.adda_keras.downloads")

#: where ``make dist`` writes the two files, and the folder of the site that they are copied to
DIST_DIR, DOWNLOADS = "dist", "downloads"
#: the two files, as ``scripts/make_dist.py`` names them
WHEEL_GLOB, ZIP_NAME = "adda_keras-*-py3-none-any.whl", "adda_keras-notebooks.zip"
#: the page that offers them, and the marker on it that this hook fills
PAGE, MARKER = "tutorials.md", "<!-- downloads -->"
_VERSION = re.compile(r'^version = "([^"]+)"$', re.MULTILINE)


def _repo_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def project_version(root: Path) -> str:
    """The version of ``pyproject.toml`` (``0.1.0``), or ``<version>`` if it cannot be read."""
    try:
        match = _VERSION.search((root / "pyproject.toml").read_text(encoding="utf-8"))
    except OSError:
        match = None
    return match.group(1) if match else "<version>"


def dist_files(root: Path) -> tuple[Path | None, Path | None]:
    """The wheel and the notebooks zip that ``root/dist`` holds (the newest wheel if several); None where absent."""
    folder = root / DIST_DIR
    wheels = sorted(folder.glob(WHEEL_GLOB), key=lambda path: path.stat().st_mtime) if folder.is_dir() else []
    archive = folder / ZIP_NAME
    return (wheels[-1] if wheels else None), (archive if archive.is_file() else None)


def downloads_markdown(root: Path) -> str:
    """The downloads section of the tutorials page: links and one line per route, or how to build the files."""
    wheel, archive = dist_files(root)
    wheel_name = wheel.name if wheel else f"adda_keras-{project_version(root)}-py3-none-any.whl"
    if wheel and archive:
        files = (
            f"- [`{wheel_name}`]({DOWNLOADS}/{wheel_name}): the library, with the bundled MNIST test set;\n"
            f"- [`{ZIP_NAME}`]({DOWNLOADS}/{ZIP_NAME}): the notebooks with their stored outputs, and the "
            "result tables (`results/`) that notebooks 05, 06, 08 and 09 read.\n"
        )
    else:
        missing = [name for name, path in ((wheel_name, wheel), (ZIP_NAME, archive)) if path is None]
        files = (
            '!!! note "Not in this build of the site"\n'
            f"    This copy of the site was built without {' and '.join(f'`{name}`' for name in missing)}. "
            "In a checkout of the project, `make dist` writes the wheel and the notebooks zip into `dist/` "
            "(in seconds, with a small build environment of its own), and `make docs` builds the site "
            "with both offered here.\n"
        )
    routes = (
        "- **Colab**: *File → Upload notebook* (a notebook of the zip, or a *download* link of the table above), "
        f"then upload `{wheel_name}` with the *Files* panel; the notebook's first cell installs it (Colab has "
        f"TensorFlow already). For notebooks 05, 06, 08 and 09 upload the zip too and run `!unzip -q {ZIP_NAME}`: they "
        "read the result tables it carries.\n"
        f'- **Laptop (CPU)**: `pip install "{wheel_name}[cpu]" jupyterlab`, unzip `{ZIP_NAME}`, then '
        "`cd adda_keras-notebooks && jupyter lab`. The `[cpu]` extra brings TensorFlow's CPU build: the wheel "
        "alone has no TensorFlow.\n"
        f'- **Kaggle or another GPU machine**: `pip install "{wheel_name}[gpu]"` (TensorFlow with CUDA); where '
        "a GPU build of TensorFlow is installed already, as on Kaggle's images, install the wheel alone to keep it.\n"
    )
    return files + "\nThen, one line per route:\n\n" + routes


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the wheel and the notebooks zip of ``dist/`` to the site, under :data:`DOWNLOADS`."""
    for path in dist_files(_repo_root(config)):
        if path is not None:
            files.append(File.generated(config, f"{DOWNLOADS}/{path.name}", abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the downloads marker of the tutorials page."""
    if page.file.src_uri == PAGE and MARKER in markdown:
        wheel, archive = dist_files(_repo_root(config))
        if wheel is None or archive is None:
            log.info("dist/ lacks the wheel or the notebooks zip: the tutorials page says to run `make dist`")
        markdown = markdown.replace(MARKER, downloads_markdown(_repo_root(config)))
    return markdown
