"""MkDocs hook: ship MathJax with the site, so that formulas render without a network.

pymdownx.arithmatex wraps the formulas of the Markdown pages in
``\\(...\\)`` / ``\\[...\\]``, and the notebook pages keep Jupyter's
``$...$``; MathJax 3 typesets both in the browser (configuration:
``docs/javascripts/mathjax.js``). MathJax comes from the pinned PyPI package
``django-static-mathjax`` (import name ``mathjax``; a plain copy of the
``mathjax-full`` npm package, no Django needed), not from a CDN: this hook
adds its SVG bundle and the TeX extensions that the bundle loads on demand
to the build, under ``javascripts/mathjax/``. SVG output needs no web fonts,
so the formulas render from ``mkdocs serve``, any static server, or a
classroom without a network.

The accessibility explorer of MathJax's context menu (speech, ``a11y/`` and
``sre/``, 4 MB) is not shipped: the menu's other entries work.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

SITE_FOLDER = "javascripts/mathjax"
"""Where the MathJax files go in the site; ``extra_javascript`` in mkdocs.yml names the bundle there."""

BUNDLE = "tex-mml-svg.js"
"""The combined MathJax component: TeX and MathML input, SVG output, the menu."""

EXTENSIONS = "input/tex/extensions"
"""TeX packages that the bundle's ``autoload`` fetches when a page uses them (``\\boldsymbol``, ...)."""


def mathjax_es5() -> Path:
    """The ``es5`` folder of the installed MathJax package; :class:`PluginError` if it is not installed."""
    spec = importlib.util.find_spec("mathjax")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "static" / "mathjax" / "es5"
        if (folder / BUNDLE).is_file():
            return folder
    raise PluginError(
        "MathJax is not installed: the docs ship it from the PyPI package django-static-mathjax "
        "(pinned in requirements.txt); run `make setup` or `pip install -r requirements.txt`"
    )


def mathjax_files(es5: Path) -> list[Path]:
    """The files of ``es5`` that the site needs: the bundle and the TeX extensions."""
    return [es5 / BUNDLE, *sorted((es5 / EXTENSIONS).glob("*.js"))]


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add MathJax's bundle and extensions to the build, under :data:`SITE_FOLDER`."""
    es5 = mathjax_es5()
    for path in mathjax_files(es5):
        src_uri = f"{SITE_FOLDER}/{path.relative_to(es5).as_posix()}"
        files.append(File.generated(config, src_uri, abs_src_path=str(path)))
    return files
