"""`make lab` opens the tutorials in JupyterLab from the project's virtual environment.

JupyterLab is the ``lab`` extra of ``pyproject.toml``; ``make lab`` installs it
into ``.venv`` on first use (CI's ``make test`` does not need it). The first
test reads what the target would run (``make -n``) and so checks the install
step whatever is installed; the second checks the installed command itself in
the environment running the tests.
"""

from __future__ import annotations

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


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_installs_jupyterlab_then_opens_the_notebooks() -> None:
    assert _lab_requirement().startswith("jupyterlab>=4")
    # -B: as on a fresh clone (every step of the target, the venv's creation included); -n: print, do not run
    dry = subprocess.run(["make", "-n", "-B", "lab"], cwd=ROOT, capture_output=True, text=True, check=True)
    # under `make test`, a nested make also prints "make[1]: Entering/Leaving directory" lines: not steps of the target
    lines = [line.strip() for line in dry.stdout.splitlines() if line.strip() and not line.startswith("make[")]
    installs = [i for i, line in enumerate(lines) if "-m pip install" in line and '".[lab]"' in line]
    launches = [i for i, line in enumerate(lines) if line.endswith("/bin/jupyter lab notebooks/")]
    assert installs, f"make lab does not install the `lab` extra:\n{dry.stdout}"
    assert launches and launches[-1] == len(lines) - 1, f"make lab does not end by opening notebooks/:\n{dry.stdout}"
    assert installs[0] < launches[-1]
    assert any(line.startswith(".venv/bin/python -m pip install --quiet -r requirements.txt") for line in lines)


def test_the_notebook_server_command_exists_once_make_lab_has_run() -> None:
    venv = Path(sys.executable).parent.parent
    if not (venv / ".lab-installed").exists():
        pytest.skip(f"`make lab` has not run in {venv}; the test above checks what it installs and runs")
    command = venv / "bin" / "jupyter-lab"
    assert command.is_file(), f"{venv}/.lab-installed exists but {command} does not: run `make lab` again"
    result = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip().startswith("4."), result.stderr
