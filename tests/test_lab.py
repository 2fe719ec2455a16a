"""`make lab` opens the tutorials in JupyterLab from the project's virtual environment.

JupyterLab is the ``lab`` extra of ``pyproject.toml``; ``make lab`` installs it
into ``.venv`` on first use (CI's ``make test`` does not need it). The first
tests read what the target would run (``make -n``) and so check the install
step whatever is installed, and that root gets ``--allow-root``; the
configuration tests check that the file browser lists each notebook once (its
``.ipynb``; the jupytext ``.py`` twin hidden), with jupyter_server's own
contents manager where it is installed; the last checks the installed command
itself in the environment running the tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lab_requirement() -> str:
    """The JupyterLab requirement of pyproject.toml's ``lab`` extra (tomllib is Python >= 3.11 only)."""
    match = re.search(r'^lab = \["(jupyterlab[^"]*)"\]$', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert match, 'pyproject.toml needs a `lab = ["jupyterlab..."]` extra for `make lab`'
    return match.group(1)


def _dry_run(*overrides: str) -> list[str]:
    """The steps that ``make lab`` would run on a fresh clone (``-B``: every step; ``-n``: print, do not run)."""
    dry = subprocess.run(["make", "-n", "-B", "lab", *overrides], cwd=ROOT, capture_output=True, text=True, check=True)
    # under `make test`, a nested make also prints "make[1]: Entering/Leaving directory" lines: not steps of the target
    return [line.strip() for line in dry.stdout.splitlines() if line.strip() and not line.startswith("make[")]


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@needs_make
def test_make_lab_installs_jupyterlab_then_opens_the_notebooks() -> None:
    assert _lab_requirement().startswith("jupyterlab>=4")
    lines = _dry_run()
    steps = "\n".join(lines)
    installs = [i for i, line in enumerate(lines) if "-m pip install" in line and '".[lab]"' in line]
    launches = [i for i, line in enumerate(lines) if "/bin/jupyter lab " in line and line.endswith(" notebooks/")]
    assert installs, f"make lab does not install the `lab` extra:\n{steps}"
    assert launches and launches[-1] == len(lines) - 1, f"make lab does not end by opening notebooks/:\n{steps}"
    assert installs[0] < launches[-1]
    assert any(line.startswith(".venv/bin/python -m pip install --quiet -r requirements.txt") for line in lines)
    # the configuration that lists each notebook once comes with the launch
    assert f'JUPYTER_CONFIG_PATH="{ROOT}/notebooks/.jupyter' in lines[-1]


@needs_make
def test_make_lab_runs_as_root_and_passes_lab_args() -> None:
    as_root = _dry_run("LAB_USER_ID=0")[-1]
    as_user = _dry_run("LAB_USER_ID=1000")[-1]
    assert "/bin/jupyter lab --allow-root" in as_root and "--allow-root" not in as_user
    with_args = _dry_run("LAB_USER_ID=1000", "LAB_ARGS=--no-browser --port=8890")[-1]
    assert with_args.endswith("/bin/jupyter lab --no-browser --port=8890 notebooks/"), with_args
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "LAB_USER_ID ?= $(shell id -u)" in makefile and "LAB_ARGS ?=" in makefile
    assert re.search(r"^# .*LAB_ARGS", makefile, re.M), "the Makefile should say what LAB_ARGS is for"


def _server_config() -> dict:
    return json.loads((ROOT / "notebooks" / ".jupyter" / "jupyter_server_config.json").read_text(encoding="utf-8"))


def test_the_file_browser_lists_each_notebook_once_as_its_ipynb() -> None:
    from fnmatch import fnmatch

    globs = _server_config()["ContentsManager"]["hide_globs"]
    # jupyter_server's own defaults stay hidden too (the setting replaces the list)
    assert {"__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~"} <= set(globs)
    names = sorted(path.name for path in (ROOT / "notebooks").iterdir() if not path.name.startswith("."))
    shown = [name for name in names if not any(fnmatch(name, glob) for glob in globs)]
    notebooks = sorted(name for name in names if re.fullmatch(r"\d\d_\w+\.ipynb", name))
    assert notebooks and [name for name in shown if name.endswith((".ipynb", ".py"))] == notebooks
    jupytext = (ROOT / "notebooks" / "jupytext.toml").read_text(encoding="utf-8")
    assert re.search(r'^formats = "ipynb,py:percent"$', jupytext, re.M), "the pairing writes the .py on every save"
    assert re.search(r'^notebook_extensions = \["ipynb"\]$', jupytext, re.M), "only the .ipynb opens as a notebook"


def test_jupyter_servers_contents_manager_hides_the_py_twins() -> None:
    contents = pytest.importorskip("jupyter_server.services.contents.filemanager", reason="jupyter_server absent")
    from traitlets.config import Config

    manager = contents.FileContentsManager(root_dir=str(ROOT / "notebooks"), config=Config(_server_config()))
    listed = {entry["name"] for entry in manager.get("", content=True)["content"]}
    assert "06_results.ipynb" in listed and "06_results.py" not in listed
    assert not [name for name in listed if name.endswith(".py")]


def test_the_notebook_server_command_exists_once_make_lab_has_run() -> None:
    venv = Path(sys.executable).parent.parent
    if not (venv / ".lab-installed").exists():
        pytest.skip(f"`make lab` has not run in {venv}; the test above checks what it installs and runs")
    command = venv / "bin" / "jupyter-lab"
    assert command.is_file(), f"{venv}/.lab-installed exists but {command} does not: run `make lab` again"
    result = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip().startswith("4."), result.stderr
