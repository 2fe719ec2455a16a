"""Build what a reader needs to run the tutorials on Colab without a public repository (``make dist``).

Writes into ``dist/``:

* the wheel of ``adda_keras`` (``adda_keras-<version>-py3-none-any.whl``), with
  the bundled MNIST test set as data files, built by ``pip wheel`` from this
  checkout (``make dist`` runs this script from a small environment of its own,
  ``.dist-venv``, with ``--no-build-isolation``: pip builds with that
  environment's setuptools and fetches nothing further);
* ``adda_keras-notebooks.zip``: every ``notebooks/NN_topic.ipynb`` with its
  stored outputs, the result tables of ``results/`` that notebooks 05, 06, 08
  and 09 read (under ``adda_keras-notebooks/results/``, the per-unit score
  files and figures left out), and a ``README.txt`` that says how to run them.

On Colab: File → Upload notebook (one of the zip's notebooks), then upload
the wheel with the Files panel; the notebook's first code cell (written by
``scripts/sync_notebooks.py``) finds ``/content/adda_keras-*.whl``, installs
it and says so.

Usage::

    python scripts/make_dist.py            # or: make dist
    python scripts/make_dist.py --out dist
    python scripts/make_dist.py --no-wheel # only the zip

This script needs only the standard library (and pip, for the wheel).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = re.compile(r"^\d\d_[A-Za-z0-9_-]+\.ipynb$")
ZIP_NAME = "adda_keras-notebooks.zip"
ZIP_FOLDER = "adda_keras-notebooks"
#: the result files the zip carries: the tables (and their reading pages), not the per-unit scores or the figures
RESULT_SUFFIXES = (".md", ".csv")
RESULT_SKIPPED_FOLDERS = ("units",)
README = """adda_keras tutorial notebooks, with the outputs of their last default-mode run.

results/ holds the committed result tables that notebooks 05, 06, 08 and 09 read
(the runs.csv and table.md files of the project's results/ folder): keep it beside
the notebooks. The notebooks look for ./results when they do not run from a
checkout of the project.

In a checkout of the project: `make lab` opens the notebooks in JupyterLab.

On a laptop (CPU), with the wheel adda_keras-<version>-py3-none-any.whl that
`make dist` wrote beside this zip:
    pip install "adda_keras-<version>-py3-none-any.whl[cpu]" jupyterlab
    cd adda_keras-notebooks && jupyter lab
On a GPU machine (Kaggle, a cloud VM), install the [gpu] extra instead of [cpu];
where TensorFlow is installed already (Colab, Kaggle), install the wheel alone.

On Colab (no public repository is needed):
1. File -> Upload notebook, and pick one of these .ipynb files.
2. Open the Files panel (the folder icon on the left) and upload the wheel
   adda_keras-<version>-py3-none-any.whl. For notebooks 05, 06, 08 and 09 upload
   this zip too and run `!unzip -q adda_keras-notebooks.zip` in a cell: the
   notebooks find adda_keras-notebooks/results there.
3. Runtime -> Change runtime type -> GPU (optional), then run the cells. The first
   code cell installs adda_keras from the uploaded wheel and prints which file it
   installed; without a wheel it tries the project's repository address.
"""


def build_wheel(out: Path, isolation: bool = True) -> Path:
    """Build the project's wheel into ``out``; its path.

    With ``isolation`` False, pip builds with the setuptools of the running
    Python (``make dist``'s ``.dist-venv``) instead of fetching one into a
    temporary build environment.
    """
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    if not isolation:
        command.append("--no-build-isolation")
    with tempfile.TemporaryDirectory(prefix="adda-wheel-") as scratch:
        subprocess.run([*command, "--wheel-dir", scratch, str(ROOT)], check=True)
        (built,) = Path(scratch).glob("adda_keras-*.whl")
        target = out / built.name
        target.write_bytes(built.read_bytes())
    with zipfile.ZipFile(target) as wheel:
        names = wheel.namelist()
    for required in ("adda_keras/__init__.py", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        if not any(name.endswith(required) for name in names):
            raise SystemExit(f"error: the wheel {target.name} lacks {required}")
    return target


def result_tables(results: Path = ROOT / "results") -> list[Path]:
    """The result tables that the zip carries: every ``.md`` and ``.csv`` under ``results``, per-unit files aside."""
    return sorted(
        path
        for path in results.rglob("*")
        if path.is_file()
        and path.suffix in RESULT_SUFFIXES
        and not set(path.relative_to(results).parts[:-1]) & set(RESULT_SKIPPED_FOLDERS)
    )


def build_notebook_zip(out: Path, notebooks: Path = ROOT / "notebooks", results: Path = ROOT / "results") -> Path:
    """Zip the tutorial notebooks (``.ipynb`` with outputs), the result tables they read and a README into ``out``.

    The tables keep their layout under ``adda_keras-notebooks/results/`` (``results/quick/table1-noisy/runs.csv``
    and so on), where :func:`adda_keras.tutorial.results_folder` looks when there is no checkout. Returns the
    zip's path.
    """
    paths = sorted(p for p in notebooks.iterdir() if NOTEBOOK.match(p.name))
    if not paths:
        raise SystemExit(f"error: no notebooks/NN_topic.ipynb in {notebooks}")
    tables = result_tables(results) if results.is_dir() else []
    if not tables:
        raise SystemExit(f"error: no result tables (.md, .csv) in {results}")
    target = out / ZIP_NAME
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{ZIP_FOLDER}/README.txt", README)
        for path in paths:
            archive.write(path, f"{ZIP_FOLDER}/{path.name}")
        for path in tables:
            archive.write(path, f"{ZIP_FOLDER}/results/{path.relative_to(results).as_posix()}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    parser.add_argument("--no-wheel", action="store_true", help="only the notebooks zip")
    parser.add_argument(
        "--no-build-isolation",
        action="store_true",
        help="build the wheel with this Python's setuptools (>= 77) rather than a fetched one",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_wheel:
        for old in args.out.glob("adda_keras-*.whl"):
            old.unlink()
        print(f"wrote {build_wheel(args.out, isolation=not args.no_build_isolation)}")
    print(f"wrote {build_notebook_zip(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
