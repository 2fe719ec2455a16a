"""Fast checks of the tutorial notebooks that do not execute them.

Executing them is nbval's job (``ADDA_KERAS_FAST=1 pytest --nbval-lax notebooks``).
Here: every ``notebooks/NN_topic.py`` has its paired ``.ipynb`` with the same
cells, a header that says what the notebook teaches and how long it runs, the
Colab badge and set-up block that ``scripts/sync_notebooks.py`` derives from
``mkdocs.yml``'s ``repo_url``, and no copy of the library's formulas. Plus the
notebook helpers of :mod:`adda_keras.tutorial`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import jupytext
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
SOURCES = sorted(p for p in NOTEBOOK_DIR.glob("*.py") if re.match(r"^\d\d_[A-Za-z0-9_-]+\.py$", p.name))
EXPECTED = [
    "00_overview",
    "01_data",
    "02_baselines",
    "03_attention",
    "04_ada_self_supervised",
    "05_ada_semi_supervised",
    "06_results",
    "07_own_images",
    "08_localisation",
    "09_real_images",
]
# Library code that a notebook must import, never define again.
FORBIDDEN = ("def attention_weighted_residual", "def ada_score", "def class_activation", "GradientTape")
#: the notebooks that write the method out on purpose (keras-io style) and check it against the library
WRITES_THE_METHOD_OUT = ("03_attention", "04_ada_self_supervised")


def _load_sync_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_notebooks", ROOT / "scripts" / "sync_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


sync = _load_sync_script()


def _cells(path: Path) -> list[tuple[str, str]]:
    notebook = jupytext.read(path)
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def _header(path: Path) -> str:
    cell_type, source = _cells(path)[0]
    assert cell_type == "markdown", f"{path.name}: the first cell must be the markdown header"
    return source


def test_the_tutorial_series_is_complete() -> None:
    assert [p.stem for p in SOURCES] == EXPECTED


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_exists_and_cells_match(source: Path) -> None:
    paired = source.with_suffix(".ipynb")
    assert paired.is_file(), f"{paired.name} is missing: run python scripts/sync_notebooks.py"
    text_cells, notebook_cells = _cells(source), _cells(paired)
    code = [s for t, s in text_cells if t == "code"]
    assert code == [s for t, s in notebook_cells if t == "code"], (
        f"code cells of {source.name} and {paired.name} differ: run python scripts/sync_notebooks.py"
    )
    assert text_cells == notebook_cells, f"markdown of {source.name} and {paired.name} differs: sync the pair"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_header(source: Path) -> None:
    header = _header(source)
    number = source.stem[:2]
    assert re.search(rf"^# {number} · \S.+$", header, re.MULTILINE), "title '# NN · Title' missing"
    assert "**What you will learn**" in header
    assert re.search(r"^- ", header, re.MULTILINE), "the 'What you will learn' bullets are missing"
    assert re.search(r"\*\*Run time:\*\*.*2-core CPU.*GPU", header.replace("\n", " ")), "run times missing"
    assert re.search(r"\*\*Last run:\*\* \d{4}-\d\d-\d\d", header), "the date of the stored run is missing"
    assert "On Colab: Runtime → Change runtime type → GPU" in header
    repo_url, published = sync.read_repo_url(), sync.read_published()
    colab = "\n".join(line[2:] for line in sync.badge_block(repo_url, source.stem, published)[1:-1])
    assert colab in header, "Colab line missing or stale: run python scripts/sync_notebooks.py"


def _render(source: Path) -> str:
    return sync.render(source.read_text(encoding="utf-8"), sync.read_repo_url(), source.stem, sync.read_published())


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_generated_parts_are_up_to_date(source: Path) -> None:
    assert _render(source) == source.read_text(encoding="utf-8"), "run python scripts/sync_notebooks.py"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_run_time_is_the_stored_runs(source: Path) -> None:
    """The header's run time is that of the run whose outputs the .ipynb stores, never a typed number."""
    seconds, day = sync.stored_run(source.with_suffix(".ipynb"))
    header = " ".join(_header(source).replace("\n# ", " ").split())
    assert f"**Run time:** {sync.format_duration(seconds)} on a 2-core CPU" in header
    assert f"**Last run:** {day}." in header


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_colab_set_up_is_one_short_cell_of_its_own(source: Path) -> None:
    code = [s for t, s in _cells(source) if t == "code"]
    block = "\n".join(sync.setup_block(sync.read_repo_url(), sync.read_published()))
    assert code[0] == block, "the Colab set-up block must be the first code cell, alone"
    assert len(code[0].splitlines()) <= 25
    assert re.search(r"^from adda_keras\.tutorial import .*\bFAST\b", code[1], re.MULTILINE)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebooks_do_not_reimplement_the_library(source: Path) -> None:
    """Library code is imported; a notebook that writes the method out (03, 04) checks it against the library."""
    text = source.read_text(encoding="utf-8")
    found = [name for name in FORBIDDEN if name in text]
    if found:
        assert source.stem in WRITES_THE_METHOD_OUT, f"{source.name} re-implements library code ({found})"
        assert "np.testing.assert_allclose" in text, f"{source.name} writes {found} out but never checks it"


#: an absolute path of the machine that ran a notebook ("/work/main/results/quick"), not part of an address
ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/])/(?:home|root|work|tmp|Users|content|mnt|opt|private|var)/\S*")


def _output_texts(notebook: Path) -> list[str]:
    """The text of every stored output of ``notebook`` (streams, text/* data, tracebacks)."""
    texts = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            parts = [output.get("text", ""), output.get("traceback", [])]
            parts += [value for kind, value in output.get("data", {}).items() if kind.startswith("text/")]
            texts += ["".join(part) if isinstance(part, list) else part for part in parts]
    return texts


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_stored_outputs_name_no_path_of_the_machine_that_ran_them(source: Path) -> None:
    found = [path for text in _output_texts(source.with_suffix(".ipynb")) for path in ABSOLUTE_PATH.findall(text)]
    assert not found, f"{source.stem} prints paths of the machine that ran it (show them relative): {found}"


@pytest.mark.parametrize("source", [s for s in SOURCES if s.stem != "07_own_images"], ids=lambda p: p.stem)
def test_exercises_end_the_notebook_with_solutions_that_open_on_click(source: Path) -> None:
    """Two or three exercises, d2l style; each solution a cell tagged "solution", collapsed in Jupyter."""
    cells = jupytext.read(source).cells
    starts = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and "## Exercises" in cell.source]
    assert starts, f"{source.name} has no '## Exercises' section"
    questions = re.findall(r"^\d\. ", cells[starts[-1]].source, re.MULTILINE)
    solutions = [cell for cell in cells[starts[-1] + 1 :] if "solution" in cell.metadata.get("tags", [])]
    assert 2 <= len(questions) <= 3 and len(solutions) == len(questions), (len(questions), len(solutions))
    assert all(cell.metadata.get("jupyter", {}).get("source_hidden") for cell in solutions)
    assert any(cell.cell_type == "code" for cell in solutions), "nbval must execute at least one solution"
    assert all(cell.source.lstrip("# ").startswith(f"Solution {k}") for k, cell in enumerate(solutions, 1))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_stored_outputs_carry_no_tensorflow_warnings(source: Path) -> None:
    found = [
        line
        for text in _output_texts(source.with_suffix(".ipynb"))
        for line in text.splitlines()
        if line.startswith("WARNING:tensorflow") or sync._TF_WARNINGS.match(line)
    ]
    assert not found, f"{source.stem} stores TensorFlow warnings (scripts/sync_notebooks.py strips them): {found}"


def test_check_output_cells_are_marked_in_the_source() -> None:
    marked = sum(source.read_text(encoding="utf-8").count("# NBVAL_CHECK_OUTPUT") for source in SOURCES)
    assert marked >= 5


# -- scripts/sync_notebooks.py ------------------------------------------------------------------------


def test_colab_url_from_repo_url() -> None:
    url = sync.colab_url("https://github.com/owner/repo.git", "03_attention")
    assert url == "https://colab.research.google.com/github/owner/repo/blob/main/notebooks/03_attention.ipynb"
    with pytest.raises(sync.SyncError, match="GitHub address"):
        sync.colab_url("https://gitlab.com/owner/repo", "03_attention")


def test_read_repo_url_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(sync.SyncError, match="not found"):
        sync.read_repo_url(tmp_path / "mkdocs.yml")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    with pytest.raises(sync.SyncError, match="repo_url"):
        sync.read_repo_url(tmp_path / "mkdocs.yml")
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nrepo_url: https://github.com/a/b/  # home\n")
    assert sync.read_repo_url(tmp_path / "mkdocs.yml") == "https://github.com/a/b"


def test_read_published(tmp_path: Path) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: x\nrepo_url: https://github.com/a/b\n")
    assert sync.read_published(config) is False  # unset: treated as a placeholder
    config.write_text("site_name: x\nextra:\n  other: 1\n  repo_published: true  # public now\nnav: []\n")
    assert sync.read_published(config) is True
    config.write_text("extra:\n  repo_published: maybe\n")
    with pytest.raises(sync.SyncError, match="true or false"):
        sync.read_published(config)


def test_readme_colab_paragraph_and_run_times_follow_the_configuration() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    repo_url, published = sync.read_repo_url(), sync.read_published()
    assert sync.render_readme(readme, repo_url, published) == readme, "run python scripts/sync_notebooks.py"
    placeholder = sync.render_readme(readme, repo_url, published=False)
    assert "colab.research.google.com/github" not in placeholder
    assert f"]({repo_url}" not in placeholder, "README.md links to a repository address that is a placeholder"
    assert "`make dist`" in placeholder
    public = sync.render_readme(readme, "https://github.com/c/d", published=True)
    assert "The repository is `https://github.com/c/d`" in public
    seconds, _ = sync.stored_run(ROOT / "notebooks" / "03_attention.ipynb")
    assert f"| {sync.format_duration(seconds)} |" in readme.split("[`03_attention`]", 1)[1].split("\n", 1)[0]


def _run_setup_block(repo_url: str, wheel_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Execute the notebooks' Colab set-up cell as if on Colab, looking for wheels in ``wheel_dir``."""
    monkeypatch.setitem(sys.modules, "google.colab", ModuleType("google.colab"))
    namespace: dict = {}
    exec("\n".join(sync.setup_block(repo_url, published=False, wheel_dir=str(wheel_dir))), namespace)
    return namespace


def test_colab_setup_installs_an_uploaded_wheel_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = tmp_path / "adda_keras-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not a zip file")  # a wheel that pip refuses: the cell must say which file and what to do
    with pytest.raises(RuntimeError, match="cannot install adda_keras from") as failure:
        _run_setup_block("http://127.0.0.1:9/nobody/adda_keras.git", tmp_path, monkeypatch)
    assert str(wheel) in str(failure.value) and "make dist" in str(failure.value)
    assert f"installing adda_keras from the uploaded wheel {wheel}" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_colab_setup_without_a_wheel_tries_the_repository_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = "http://127.0.0.1:9/nobody/adda_keras.git"  # the discard port: the connection is refused at once
    with pytest.raises(RuntimeError, match="cannot install adda_keras from") as failure:
        _run_setup_block(unreachable, tmp_path, monkeypatch)
    assert f"git+{unreachable}" in str(failure.value)
    assert "Upload the wheel that `make dist` builds" in str(failure.value)
    assert "installing adda_keras from REPO_URL" in capsys.readouterr().out


def test_colab_setup_block_does_nothing_outside_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace: dict = {}
    exec("\n".join(sync.setup_block("http://127.0.0.1:9/unreachable")), namespace)
    assert namespace["REPO_URL"] == "http://127.0.0.1:9/unreachable"
    assert "source" not in namespace


def test_render_inserts_then_is_idempotent(tmp_path: Path) -> None:
    bare = "# %% [markdown]\n# # 07 · New\n#\n# Text.\n\n# %%\nimport numpy as np\n"
    missing = tmp_path / "07_new.ipynb"
    once = sync.render(bare, "https://github.com/a/b", "07_new", published=True, ipynb=missing)
    assert "https://colab.research.google.com/github/a/b/blob/main/notebooks/07_new.ipynb" in once
    assert 'REPO_URL = "https://github.com/a/b"' in once
    assert "**Run time:** not measured yet" in once
    assert once.index(sync.SETUP_END) < once.index("# %%\nimport numpy as np"), "the set-up must be a cell of its own"
    assert sync.render(once, "https://github.com/a/b", "07_new", published=True, ipynb=missing) == once
    hidden = sync.render(once, "https://github.com/c/d", "07_new", published=False, ipynb=missing)
    assert "github.com/a/b" not in hidden and "colab.research.google.com" not in hidden
    assert "make dist" in hidden and 'REPO_URL = "https://github.com/c/d"  # a placeholder' in hidden


# -- adda_keras.tutorial --------------------------------------------------------------------------------


def test_fast_mode_switch() -> None:
    from adda_keras import tutorial

    assert tutorial.is_fast({"ADDA_KERAS_FAST": "1"})
    assert tutorial.is_fast({"ADDA_KERAS_FAST": "True"})
    assert not tutorial.is_fast({"ADDA_KERAS_FAST": "0"})
    assert not tutorial.is_fast({})
    assert tutorial.pick("default", "fast") == ("fast" if tutorial.FAST else "default")


def test_attention_history_records_every_epoch(tiny_split) -> None:
    from adda_keras import make_detector
    from adda_keras.tutorial import AttentionHistory

    history = AttentionHistory(tiny_split.x_test[:3], every=1)
    make_detector("ada", epochs=2, batch_size=32, seed=0).fit(tiny_split.x_train[:64], callbacks=[history])
    maps = history.stack()
    assert history.epochs == [0, 1, 2]
    assert maps.shape == (3, 3, 28, 28)
    assert np.isfinite(maps).all() and maps.min() >= 0 and maps.max() <= 1
    with pytest.raises(ValueError, match="every"):
        AttentionHistory(tiny_split.x_test[:3], every=0)
