"""Refresh the generated parts of the tutorial notebooks, then sync each jupytext pair.

The repository's address is configured in one place, ``repo_url`` in
``mkdocs.yml``, with ``extra.repo_published`` saying whether that address is
public yet (``false``: it is a placeholder, and no page may present it as a
working address). From them, and from the notebooks' stored runs, this script
writes, in every ``notebooks/NN_*.py`` (the percent-format source):

* the Colab line of the header, between ``<!-- colab-badge -->`` and
  ``<!-- /colab-badge -->``: an "Open in Colab" badge when the repository is
  published, else how to run the notebook on Colab from the wheel that
  ``make dist`` builds;
* the run-time line of the header, between ``<!-- run-time -->`` and
  ``<!-- /run-time -->``: how long the stored default-mode run took, timed
  from the execution times that Jupyter records in each cell of the
  ``.ipynb`` (never typed by hand), and the date of that run;
* the Colab set-up cell, the first code cell, between ``# colab-setup: begin``
  and ``# colab-setup: end``: on Colab it installs ``adda_keras`` from a wheel
  uploaded beside the notebook (``adda_keras-*.whl``) if there is one, else
  from ``REPO_URL``, says which, and stops with an error that says what to do
  if the install fails. Elsewhere it does nothing.

A notebook without the markers gets them. README.md's notebook table gets
each notebook's run time the same way, and its Colab paragraph (between
``<!-- colab: begin -->`` and ``<!-- colab: end -->``). Then ``jupytext
--sync`` updates each ``.ipynb`` from its ``.py`` (keeping stored outputs).
Running the script twice changes nothing.

With ``--execute NAME...`` it then runs those notebooks in default mode
(``jupyter nbconvert --execute --inplace``, fast mode switched off), stores
their outputs in the ``.ipynb``, drops TensorFlow's C++ start-up chatter from
the stored stderr (TensorFlow >= 2.20 prints it whatever
``TF_CPP_MIN_LOG_LEVEL`` says) and rewrites the run-time lines from the new run.

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
import textwrap
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
MKDOCS_FILE = ROOT / "mkdocs.yml"
README_FILE = ROOT / "README.md"
NOTEBOOK_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_-]+\.py$")
BRANCH = "main"
#: the "Open in Colab" badge image; the docs site serves its own copy (docs/assets/colab-badge.svg, docs/hooks.py)
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

#: Colab's working folder, where the Files panel uploads (the set-up cell looks for a wheel there)
COLAB_CONTENT = "/content"

BADGE_BEGIN = "# <!-- colab-badge -->"
BADGE_END = "# <!-- /colab-badge -->"
RUN_TIME_BEGIN = "# <!-- run-time -->"
RUN_TIME_END = "# <!-- /run-time -->"
SETUP_BEGIN = "# colab-setup: begin (written by scripts/sync_notebooks.py; edit that script, not this cell)"
SETUP_END = "# colab-setup: end"
_SETUP_BEGIN_PREFIX = "# colab-setup: begin"
README_COLAB_BEGIN = "<!-- colab: begin -->"
README_COLAB_END = "<!-- colab: end -->"

_REPO_URL_LINE = re.compile(r"^repo_url:\s*(?P<url>\S+)\s*(?:#.*)?$", re.MULTILINE)
_PUBLISHED_LINE = re.compile(r"^extra:\s*\n(?:[ \t]+.*\n)*?[ \t]+repo_published:\s*(?P<value>\S+)", re.MULTILINE)
_GITHUB_URL = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9_.-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
#: a row of README.md's notebook table: link, what it shows, run time (the column this script writes)
_README_ROW = re.compile(
    r"^(\| \[`(?P<stem>\d\d_[A-Za-z0-9_-]+)`\]\(notebooks/\d\d_[^)]*\.ipynb\) \| [^|]* \| )([^|]*)( \|.*)$"
)


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


#: lines of TensorFlow's Python logger, in any stream, that speak to the library's developer, not to the reader
_TF_WARNINGS = re.compile(r"^WARNING:tensorflow:.*triggered tf\.function retracing.*$")


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


def read_published(mkdocs_file: Path = MKDOCS_FILE) -> bool:
    """``extra.repo_published`` of ``mkdocs.yml``: whether ``repo_url`` is a public address (default: false)."""
    match = _PUBLISHED_LINE.search(mkdocs_file.read_text(encoding="utf-8")) if mkdocs_file.is_file() else None
    if match is None:
        return False
    value = match.group("value").strip("'\"").lower()
    if value not in ("true", "false"):
        raise SyncError(f"{mkdocs_file}: extra.repo_published must be true or false; got {value!r}")
    return value == "true"


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


def _markdown_lines(text: str) -> list[str]:
    """``text`` as percent-format markdown lines (``# ...``), wrapped to the line length ruff checks."""
    return [f"# {line}" for line in textwrap.wrap(text, width=116, break_on_hyphens=False, break_long_words=False)]


def badge_block(repo_url: str, notebook: str, published: bool = True) -> list[str]:
    """The header lines (percent-format markdown) that say how to open the notebook in Colab."""
    if published:
        lines = [f"# [![Open In Colab]({BADGE_IMAGE})]({colab_url(repo_url, notebook)})"]
    else:
        lines = _markdown_lines(
            "**On Colab** (the project has no public repository yet, so there is no Colab link): upload this "
            "notebook and the wheel that `make dist` builds (`dist/adda_keras-*.whl`); the first code cell "
            "installs the wheel."
        )
    return [BADGE_BEGIN, *lines, BADGE_END]


def setup_block(repo_url: str, published: bool = True, wheel_dir: str = COLAB_CONTENT) -> list[str]:
    """The Colab set-up cell: on Colab, install adda_keras from an uploaded wheel, else from ``repo_url``.

    It prints which source it installs from; a failed install raises
    ``RuntimeError`` that names the source and says what to do. Outside Colab
    it does nothing (the notebook runs in the project's environment).
    """
    note = "" if published else "  # a placeholder: the project is not published yet"
    return [
        SETUP_BEGIN,
        "import glob",
        "import os",
        "import subprocess",
        "import sys",
        "",
        f'REPO_URL = "{repo_url}"{note}',
        'if "google.colab" in sys.modules:  # on Colab: install adda_keras from an uploaded wheel, else from REPO_URL',
        f'    wheels = sorted(glob.glob("{wheel_dir}/adda_keras-*.whl"))',
        '    source = wheels[-1] if wheels else f"adda-keras @ git+{REPO_URL}"',
        '    print("Colab set-up: installing adda_keras from", "the uploaded wheel" if wheels else "REPO_URL", source)',
        "    install = subprocess.run(",
        '        [sys.executable, "-m", "pip", "install", "--quiet", source],',
        "        capture_output=True,",
        "        text=True,",
        '        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # fail, rather than ask for a password',
        "    )",
        "    if install.returncode != 0:",
        "        raise RuntimeError(",
        '            f"Colab set-up: cannot install adda_keras from {source}:\\n{install.stderr[-1500:]}\\n"',
        '            "Upload the wheel that `make dist` builds (dist/adda_keras-*.whl) with the Files panel "',
        '            "and run this cell again."',
        "        )",
        SETUP_END,
    ]


def stored_run(notebook: Path) -> tuple[float, str] | None:
    """Seconds and date (``YYYY-MM-DD``) of the run whose outputs ``notebook`` (an ``.ipynb``) stores.

    Timed from the execution times Jupyter records in each code cell's
    metadata (``metadata.execution``): from the first cell's start to the last
    cell's end. None if the notebook is missing or stores no such times.
    """
    if not notebook.is_file():
        return None
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    timings = [cell.get("metadata", {}).get("execution", {}) for cell in cells if cell.get("cell_type") == "code"]
    starts = [t.get("iopub.execute_input") or t.get("shell.execute_reply.started") for t in timings]
    ends = [t.get("shell.execute_reply") for t in timings]
    starts, ends = [s for s in starts if s], [e for e in ends if e]
    if not starts or not ends:
        return None
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    seconds = (parse(ends[-1]) - parse(starts[0])).total_seconds()
    return seconds, parse(starts[0]).date().isoformat()


def format_duration(seconds: float) -> str:
    """``"40 s"`` below 100 s, else minutes with one decimal (``"2.6 min"``)."""
    return f"{seconds:.0f} s" if seconds < 100 else f"{seconds / 60:.1f} min"


def run_time_block(notebook: Path) -> list[str]:
    """The header's run-time lines, from the stored run of ``notebook`` (an ``.ipynb``)."""
    run = stored_run(notebook)
    if run is None:
        text = "**Run time:** not measured yet on a 2-core CPU (no stored run); on a GPU: not measured."
    else:
        seconds, day = run
        text = (
            f"**Run time:** {format_duration(seconds)} on a 2-core CPU in default mode (the run whose outputs are "
            f"stored here, timed from its cells); on a GPU: not measured. **Last run:** {day}."
        )
    return [RUN_TIME_BEGIN, *_markdown_lines(text), RUN_TIME_END]


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


def render(text: str, repo_url: str, notebook: str, published: bool = True, ipynb: Path | None = None) -> str:
    """``text`` of ``notebooks/<notebook>.py`` with its generated parts written.

    ``ipynb`` is the paired notebook whose stored run gives the run time
    (default: ``notebooks/<notebook>.ipynb``).
    """
    lines = text.split("\n")
    badge = badge_block(repo_url, notebook, published)
    replaced = _replace_block(lines, BADGE_BEGIN, BADGE_END, badge)
    if replaced is None:
        titles = [i for i, line in enumerate(lines) if re.match(r"^# # \d\d ", line)]
        if not titles:
            raise SyncError(f"{notebook}: no '# NN · Title' heading to put the Colab badge under")
        at = titles[0] + 1
        replaced = [*lines[:at], "#", *badge, *lines[at:]]
    lines = replaced

    run_time = run_time_block(ipynb if ipynb is not None else NOTEBOOK_DIR / f"{Path(notebook).stem}.ipynb")
    replaced = _replace_block(lines, RUN_TIME_BEGIN, RUN_TIME_END, run_time)
    if replaced is None:  # a hand-written "**Run time:**" paragraph (up to "On Colab" or a blank line), else none
        typed = [i for i, line in enumerate(lines) if line.startswith("# **Run time:**")]
        if typed:
            stop = typed[0] + 1
            while stop < len(lines) and lines[stop] not in ("#", "") and not lines[stop].startswith("# On Colab"):
                stop += 1
            replaced = [*lines[: typed[0]], *run_time, *lines[stop:]]
        else:
            badge_end = lines.index(BADGE_END)
            replaced = [*lines[: badge_end + 1], "#", *run_time, *lines[badge_end + 1 :]]
    lines = replaced

    setup = setup_block(repo_url, published)
    replaced = _replace_block(lines, _SETUP_BEGIN_PREFIX, SETUP_END, setup)
    if replaced is None:
        cells = [i for i, line in enumerate(lines) if line == "# %%" or line.startswith("# %% ") and "[" not in line]
        if not cells:
            raise SyncError(f"{notebook}: no code cell ('# %%') to put the Colab set-up block in")
        at = cells[0] + 1
        replaced = [*lines[:at], *setup, *lines[at:]]
    lines = replaced
    # the set-up block is a cell of its own: the notebook's code starts in the next cell
    end = lines.index(SETUP_END)
    rest = [line for line in lines[end + 1 :] if line.strip()]
    if rest and not rest[0].startswith("# %%"):
        lines = [*lines[: end + 1], "", "# %%", *lines[end + 1 :]]
    return "\n".join(lines)


def readme_colab_paragraph(repo_url: str, published: bool) -> str:
    """README.md's paragraph on opening the notebooks in Colab."""
    if published:
        return (
            f"The repository is `{repo_url}` (`repo_url` in `mkdocs.yml`). Open a notebook in Colab from its badge "
            "(in the notebook's header and on the site's Tutorials page); its first code cell installs `adda_keras` "
            "from the repository, or from a wheel uploaded beside the notebook (`make dist`)."
        )
    return (
        "This project has no public repository yet: the address in `mkdocs.yml` (`repo_url`) is a placeholder "
        "(`extra.repo_published: false`), so no page links to it. To run a notebook on Colab, `make dist` builds "
        "`dist/adda_keras-*.whl` and `dist/adda_keras-notebooks.zip`; upload a notebook and the wheel to Colab and "
        "its first code cell installs the wheel ([Tutorials](docs/tutorials.md))."
    )


def render_readme(text: str, repo_url: str, published: bool = True) -> str:
    """``text`` of README.md with its Colab paragraph and notebook run times written."""
    paragraph = readme_colab_paragraph(repo_url, published)
    pattern = re.compile(re.escape(README_COLAB_BEGIN) + r".*?" + re.escape(README_COLAB_END), re.DOTALL)
    text = pattern.sub(lambda _: f"{README_COLAB_BEGIN}\n{paragraph}\n{README_COLAB_END}", text)

    def row(match: re.Match[str]) -> str:
        run = stored_run(NOTEBOOK_DIR / f"{match.group('stem')}.ipynb")
        return f"{match.group(1)}{format_duration(run[0]) if run else 'not measured'}{match.group(4)}"

    return "\n".join(_README_ROW.sub(row, line) for line in text.split("\n"))


def notebook_sources(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The percent-format notebook sources ``notebooks/NN_topic.py``, in order."""
    return sorted(p for p in folder.glob("*.py") if NOTEBOOK_PATTERN.match(p.name))


def strip_tf_chatter(notebook: Path) -> int:
    """Remove TensorFlow's C++ start-up lines and retracing warnings from the stored streams; the number removed."""
    content = json.loads(notebook.read_text(encoding="utf-8"))
    removed = 0
    for cell in content.get("cells", []):
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text = output["text"] if isinstance(output["text"], str) else "".join(output["text"])
                lines = text.splitlines(keepends=True)
                chatter = _TF_CHATTER if output.get("name") == "stderr" else _TF_WARNINGS
                kept = [line for line in lines if not (chatter.match(line.rstrip("\n")) or _TF_WARNINGS.match(line))]
                removed += len(lines) - len(kept)
                if not "".join(kept).strip():
                    continue
                output["text"] = kept
            outputs.append(output)
        if "outputs" in cell:
            cell["outputs"] = outputs
    before = notebook.stat()
    notebook.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    # keep the time stamp: a newer .ipynb would become the source of the next `jupytext --sync` and overwrite
    # edits made to the .py since
    os.utime(notebook, ns=(before.st_atime_ns, before.st_mtime_ns))
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


def refresh(check: bool = False) -> list[str]:
    """Rewrite the generated parts of every notebook source and of README.md; the paths that were stale."""
    repo_url, published = read_repo_url(), read_published()
    sources = notebook_sources()
    if not sources:
        raise SyncError(f"no notebooks/NN_topic.py found in {NOTEBOOK_DIR}")
    stale = []
    for path in [*sources, README_FILE]:
        text = path.read_text(encoding="utf-8")
        if path == README_FILE:
            new = render_readme(text, repo_url, published)
        else:
            new = render(text, repo_url, path.stem, published)
        if new != text:
            stale.append(path.relative_to(ROOT).as_posix())
            if not check:
                path.write_text(new, encoding="utf-8")
    return stale


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
        stale = refresh(check=args.check)
    except SyncError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.check:
        for name in stale:
            print(f"out of date: {name} (run python scripts/sync_notebooks.py)")
        return 1 if stale else 0
    for name in stale:
        print(f"updated {name}")
    sources = notebook_sources()
    if not args.no_sync:
        for path in sources:
            subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(path)], check=True)
        print(f"synced {len(sources)} notebook pairs")
    for name in args.execute:
        matches = [p for p in sources if p.stem == name or p.stem.startswith(f"{name}_")]
        if len(matches) != 1:
            print(f"error: --execute {name!r} matches {len(matches)} notebooks", file=sys.stderr)
            return 2
        seconds = execute(matches[0].with_suffix(".ipynb"))
        print(f"executed notebooks/{matches[0].stem}.ipynb in default mode: {seconds:.0f} s")
    if args.execute:  # the run times of the header and the README come from the new runs
        for name in refresh():
            print(f"updated {name}")
        for path in sources:
            subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--sync", str(path)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
