"""Refresh the generated parts of the tutorial notebooks, then sync each jupytext pair.

The repository's address is configured in one place, ``repo_url`` in
``mkdocs.yml``. From it this script writes, in every ``notebooks/NN_*.py``
(the percent-format source of each notebook):

* the "Open in Colab" badge of the header, between the markdown markers
  ``<!-- colab-badge -->`` and ``<!-- /colab-badge -->``;
* the Colab set-up block at the top of the first code cell, between the
  comments ``# colab-setup: begin`` and ``# colab-setup: end``: ``REPO_URL``
  and, on Colab only, the lines that clone that repository and
  ``pip install -e`` it, so that ``adda_keras`` can be imported there at
  all. If the clone or the install fails, the cell stops at once with an
  error that names ``REPO_URL`` (rather than a ``ModuleNotFoundError`` a few
  lines later).

A notebook without the markers gets them (the badge after the ``# NN ·
Title`` line, the block at the top of the first code cell). The README's
"Open in Colab" badges and the address it names are rewritten from
``repo_url`` too. Then ``jupytext --sync`` updates each ``.ipynb`` from its
``.py`` (keeping stored outputs) or creates it. Running the script twice
changes nothing.

With ``--execute NAME...`` it then runs those notebooks in default mode
(``jupyter nbconvert --execute --inplace``, fast mode switched off), stores
their outputs in the ``.ipynb``, drops TensorFlow's C++ start-up chatter from
the stored stderr (TensorFlow >= 2.20 prints it whatever
``TF_CPP_MIN_LOG_LEVEL`` says) and prints how long each run took, the
figure for the notebook's "Run time" line.

Usage::

    python scripts/sync_notebooks.py                        # rewrite and sync
    python scripts/sync_notebooks.py --check                # exit 1 if a .py or README.md is out of date
    python scripts/sync_notebooks.py --execute 02 03_attention   # ... then run and store these two
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
MKDOCS_FILE = ROOT / "mkdocs.yml"
README_FILE = ROOT / "README.md"
NOTEBOOK_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_-]+\.py$")
BRANCH = "main"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
COLAB_CHECKOUT = "/content/adda_keras"  # where the set-up block clones the repository on Colab

BADGE_BEGIN = "# <!-- colab-badge -->"
BADGE_END = "# <!-- /colab-badge -->"
SETUP_BEGIN = "# colab-setup: begin (written by scripts/sync_notebooks.py from mkdocs.yml's repo_url; do not edit)"
SETUP_END = "# colab-setup: end"
_SETUP_BEGIN_PREFIX = "# colab-setup: begin"

_REPO_URL_LINE = re.compile(r"^repo_url:\s*(?P<url>\S+)\s*(?:#.*)?$", re.MULTILINE)
_GITHUB_URL = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
#: in README.md: the Colab address of a notebook, and the sentence that names the repository
_README_COLAB = re.compile(
    r"https://colab\.research\.google\.com/github/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/blob/[^/\s]+/notebooks/"
)
_README_ADDRESS = re.compile(r"(The badges point at `)https://github\.com/[^`\s]+(`)")


#: stderr lines of TensorFlow's C++ runtime that carry no information for a reader
_TF_CHATTER = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} .*"
    r"|E\d{4} .*meta_optimizer\.cc.*remapper failed.*"
    r"|E\d{4} .*node_def_util\.cc.*This may be expected.*"
    r"|E\d{4} .*oneDNN supports DT_INT32 only on platforms with AVX-512.*"
    r"|To enable the following instructions:.*"
    r"|\s*)$"
)


class SyncError(RuntimeError):
    """A configuration problem that the user must fix (the message says how)."""


def read_repo_url(mkdocs_file: Path = MKDOCS_FILE) -> str:
    """The ``repo_url`` of ``mkdocs.yml``; :class:`SyncError` if the file or the key is missing."""
    if not mkdocs_file.is_file():
        raise SyncError(
            f"{mkdocs_file} not found: the repository address is configured there as "
            "'repo_url: https://github.com/<owner>/<repo>'"
        )
    match = _REPO_URL_LINE.search(mkdocs_file.read_text(encoding="utf-8"))
    if match is None:
        raise SyncError(
            f"{mkdocs_file} has no top-level 'repo_url:' line; add 'repo_url: https://github.com/<owner>/<repo>'"
        )
    url = match.group("url").strip("'\"")
    github_path(url)  # validate now, with a clear message
    return url.rstrip("/").removesuffix(".git")


def github_path(repo_url: str) -> str:
    """``owner/repo`` of a GitHub address; :class:`SyncError` for any other address (Colab opens GitHub files)."""
    match = _GITHUB_URL.match(repo_url.strip())
    if match is None:
        raise SyncError(
            f"repo_url must be a GitHub address 'https://github.com/<owner>/<repo>' (Colab opens "
            f"notebooks from GitHub); got {repo_url!r}"
        )
    return f"{match.group('owner')}/{match.group('repo')}"


def colab_url(repo_url: str, notebook: str) -> str:
    """The Colab address of ``notebooks/<notebook>.ipynb`` on the ``main`` branch of ``repo_url``."""
    stem = Path(notebook).stem
    return f"https://colab.research.google.com/github/{github_path(repo_url)}/blob/{BRANCH}/notebooks/{stem}.ipynb"


def badge_block(repo_url: str, notebook: str) -> list[str]:
    """The header lines (percent-format markdown) of the "Open in Colab" badge."""
    return [BADGE_BEGIN, f"# [![Open In Colab]({BADGE_IMAGE})]({colab_url(repo_url, notebook)})", BADGE_END]


def setup_block(repo_url: str, checkout: str = COLAB_CHECKOUT) -> list[str]:
    """The code lines that start the first code cell: ``REPO_URL``, and on Colab the clone and install.

    On Colab (``google.colab`` imported) the block clones ``REPO_URL`` into
    ``checkout`` unless a checkout is there, installs it with ``pip install
    -e`` and puts it first on ``sys.path``; a failed clone or install raises
    ``RuntimeError`` naming ``REPO_URL``. Elsewhere it only sets ``REPO_URL``.
    """
    return [
        SETUP_BEGIN,
        "import os",
        "import subprocess",
        "import sys",
        "",
        f'REPO_URL = "{repo_url}"',
        'if "google.colab" in sys.modules:  # on Colab: clone and install adda_keras, or stop here and say why',
        f'    CHECKOUT = "{checkout}"',
        '    if not os.path.isfile(os.path.join(CHECKOUT, "pyproject.toml")):',
        "        clone = subprocess.run(",
        '            ["git", "clone", "--quiet", "--depth", "1", REPO_URL, CHECKOUT],',
        "            capture_output=True,",
        "            text=True,",
        '            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # fail, rather than ask for a password',
        "        )",
        "        if clone.returncode != 0:",
        "            raise RuntimeError(",
        '                f"Colab set-up: cannot clone the adda_keras repository {REPO_URL}: {clone.stderr.strip()}\\n"',
        '                "Set REPO_URL in this cell to a repository you can reach (your fork, say) and run it again."',
        "            )",
        "    install = subprocess.run(",
        '        [sys.executable, "-m", "pip", "install", "--quiet", "-e", CHECKOUT], capture_output=True, text=True',
        "    )",
        "    if install.returncode != 0:",
        "        raise RuntimeError(",
        '            f"Colab set-up: cannot install adda_keras from {CHECKOUT} (a clone of {REPO_URL}):\\n"',
        "            + install.stderr[-2000:]",
        "        )",
        "    sys.path.insert(0, CHECKOUT)",
        SETUP_END,
    ]


def _replace_block(lines: list[str], begin: str, end: str, block: list[str]) -> list[str] | None:
    """``lines`` with the block from the line starting with ``begin`` to ``end`` replaced; None if absent."""
    starts = [i for i, line in enumerate(lines) if line.startswith(begin)]
    if not starts:
        return None
    start = starts[0]
    try:
        stop = lines.index(end, start + 1)
    except ValueError:
        raise SyncError(f"marker {begin!r} has no closing {end!r}") from None
    return [*lines[:start], *block, *lines[stop + 1 :]]


def render(text: str, repo_url: str, notebook: str) -> str:
    """``text`` of ``notebooks/<notebook>.py`` with its badge and set-up block written from ``repo_url``."""
    lines = text.split("\n")
    badge = badge_block(repo_url, notebook)
    replaced = _replace_block(lines, "# <!-- colab-badge -->", BADGE_END, badge)
    if replaced is None:
        titles = [i for i, line in enumerate(lines) if re.match(r"^# # \d\d ", line)]
        if not titles:
            raise SyncError(f"{notebook}: no '# NN · Title' heading to put the Colab badge under")
        at = titles[0] + 1
        replaced = [*lines[:at], "#", *badge, *lines[at:]]
    lines = replaced

    setup = setup_block(repo_url)
    replaced = _replace_block(lines, _SETUP_BEGIN_PREFIX, SETUP_END, setup)
    if replaced is None:
        cells = [i for i, line in enumerate(lines) if line == "# %%" or line.startswith("# %% ") and "[" not in line]
        if not cells:
            raise SyncError(f"{notebook}: no code cell ('# %%') to put the Colab set-up block in")
        at = cells[0] + 1
        replaced = [*lines[:at], *setup, *lines[at:]]
    return "\n".join(replaced)


def render_readme(text: str, repo_url: str) -> str:
    """``text`` of README.md with its Colab badges and the address it names written from ``repo_url``."""
    colab = f"https://colab.research.google.com/github/{github_path(repo_url)}/blob/{BRANCH}/notebooks/"
    text = _README_COLAB.sub(colab, text)
    return _README_ADDRESS.sub(lambda m: f"{m.group(1)}{repo_url}{m.group(2)}", text)


def notebook_sources(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The percent-format notebook sources ``notebooks/NN_topic.py``, in order."""
    return sorted(p for p in folder.glob("*.py") if NOTEBOOK_PATTERN.match(p.name))


def strip_tf_chatter(notebook: Path) -> int:
    """Remove TensorFlow's C++ start-up lines from the stored stderr of ``notebook``; the number removed."""
    content = json.loads(notebook.read_text(encoding="utf-8"))
    removed = 0
    for cell in content.get("cells", []):
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = output["text"] if isinstance(output["text"], str) else "".join(output["text"])
                lines = text.splitlines(keepends=True)
                kept = [line for line in lines if not _TF_CHATTER.match(line.rstrip("\n"))]
                removed += len(lines) - len(kept)
                if not "".join(kept).strip():
                    continue
                output["text"] = kept
            outputs.append(output)
        if "outputs" in cell:
            cell["outputs"] = outputs
    notebook.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return removed


def execute(notebook: Path, timeout: int = 1800) -> float:
    """Run ``notebook`` (an ``.ipynb``) in default mode, store its outputs; the seconds it took."""
    env = {**os.environ, "ADDA_KERAS_FAST": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--inplace",
            f"--ExecutePreprocessor.timeout={timeout}",
            str(notebook),
        ],
        check=True,
        env=env,
        cwd=notebook.parent,
    )
    seconds = time.perf_counter() - start
    strip_tf_chatter(notebook)
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated parts of every notebook source and sync the pairs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report sources that are out of date")
    parser.add_argument("--no-sync", action="store_true", help="do not run jupytext --sync")
    parser.add_argument(
        "--execute", nargs="+", metavar="NAME", default=[], help="then run these notebooks (NN or NN_topic)"
    )
    args = parser.parse_args(argv)
    try:
        repo_url = read_repo_url()
        sources = notebook_sources()
        if not sources:
            raise SyncError(f"no notebooks/NN_topic.py found in {NOTEBOOK_DIR}")
        stale = []
        for path in [*sources, README_FILE]:
            text = path.read_text(encoding="utf-8")
            new = render_readme(text, repo_url) if path == README_FILE else render(text, repo_url, path.stem)
            if new != text:
                stale.append(path.relative_to(ROOT).as_posix())
                if not args.check:
                    path.write_text(new, encoding="utf-8")
    except SyncError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        for name in stale:
            print(f"out of date: {name} (run python scripts/sync_notebooks.py)")
        return 1 if stale else 0
    for name in stale:
        print(f"updated {name}")
    if not args.no_sync:
        for path in sources:
            subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(path)], check=True)
        print(f"synced {len(sources)} notebook pairs (repo_url {repo_url})")
    for name in args.execute:
        matches = [p for p in sources if p.stem == name or p.stem.startswith(f"{name}_")]
        if len(matches) != 1:
            print(f"error: --execute {name!r} matches {len(matches)} notebooks", file=sys.stderr)
            return 2
        seconds = execute(matches[0].with_suffix(".ipynb"))
        subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(matches[0])], check=True)
        print(f"executed notebooks/{matches[0].stem}.ipynb in default mode: {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
