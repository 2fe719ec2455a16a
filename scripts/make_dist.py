"""Build what a reader needs to run the tutorials on Colab without a public repository (``make dist``).

Writes into ``dist/``:

* the wheel of ``adda_keras`` (``adda_keras-<version>-py3-none-any.whl``), with
  the bundled MNIST test set as data files, built by ``pip wheel`` from this
  checkout (``make dist`` runs this script from a small environment of its own,
  ``.dist-venv``, with ``--no-build-isolation``: pip builds with that
  environment's setuptools and fetches nothing further);
* ``adda_keras-notebooks.zip``: every ``notebooks/NN_topic.ipynb`` with its
  stored outputs, and a ``README.txt`` that says how to run them.

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
README = """adda_keras tutorial notebooks, with the outputs of their last default-mode run.

Locally, in a checkout of the project: `make lab` opens them in JupyterLab.

On Colab (no public repository is needed):
1. File -> Upload notebook, and pick one of these .ipynb files.
2. Open the Files panel (the folder icon on the left) and upload the wheel
   adda_keras-<version>-py3-none-any.whl that `make dist` wrote beside this zip.
3. Runtime -> Change runtime type -> GPU (optional), then run the cells. The first
   code cell installs adda_keras from the uploaded wheel and prints which file it
   installed; without a wheel it tries the project's repository address.

Notebook 06 reads the result tables of a checkout's results/ folder; on Colab it
says that they are missing unless you upload them and set ADDA_KERAS_RESULTS.
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


def build_notebook_zip(out: Path, notebooks: Path = ROOT / "notebooks") -> Path:
    """Zip the tutorial notebooks (``.ipynb`` with outputs) and a README into ``out``; the zip's path."""
    paths = sorted(p for p in notebooks.iterdir() if NOTEBOOK.match(p.name))
    if not paths:
        raise SystemExit(f"error: no notebooks/NN_topic.ipynb in {notebooks}")
    target = out / ZIP_NAME
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("adda_keras-notebooks/README.txt", README)
        for path in paths:
            archive.write(path, f"adda_keras-notebooks/{path.name}")
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
