"""The number guard (scripts/check_numbers.py): every number that the prose quotes comes from a source."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("check_numbers", ROOT / "scripts" / "check_numbers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


guard = _load()


def test_every_number_quoted_in_the_prose_is_in_a_result_table_an_output_or_a_timing() -> None:
    missing = guard.check(ROOT)
    assert not missing, "\n".join(["numbers in the prose that no source holds:", *missing])


def _notebook(markdown: str, printed: str, seconds: float = 90.0) -> dict:
    start, end = "2026-11-29T10:00:00.000000Z", f"2026-11-29T10:{int(seconds // 60):02d}:{seconds % 60:06.3f}000Z"
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": markdown},
            {
                "cell_type": "code",
                "metadata": {"execution": {"iopub.execute_input": start, "shell.execute_reply": end}},
                "outputs": [{"output_type": "stream", "name": "stdout", "text": printed}],
                "source": "maps = [0.9, 0.8]",
                "execution_count": 1,
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _project(tmp_path: Path, readme: str, notebook_markdown: str = "Nothing.") -> Path:
    (tmp_path / "results" / "quick").mkdir(parents=True)
    (tmp_path / "results" / "quick" / "table.md").write_text("| method | AUROC |\n|---|---|\n| ada | 0.92711 |\n")
    (tmp_path / "results" / "timing.md").write_text("took 1,068 s (17.8 min); 51.7 s per digit\n")
    (tmp_path / "results" / "README.md").write_text("ADA 0.927 (a reading page: prose, not a source)\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("Home.\n")
    (tmp_path / "notebooks").mkdir()
    notebook = _notebook(notebook_markdown, "threshold -0.0059425, AUROC 0.881\n")
    (tmp_path / "notebooks" / "00_x.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "README.md").write_text(readme)
    return tmp_path


def test_numbers_found_in_tables_outputs_and_timings_pass(tmp_path: Path) -> None:
    readme = (
        "ADA scores 0.927 (+0.927 rounded from the table), notebook 00 printed 0.881 and a threshold of -0.0059425;"
        " Table 1 took 17.8 min, 52 s per digit, notebook 00 runs in 1.5 min. The paper's 0.725 is the paper's.\n"
        "```\ntranscript 0.123 in a code block\n```\n"
    )
    assert guard.check(_project(tmp_path, readme, "At thresholds 0.9 and 0.8 the toy map ...")) == []


def test_a_number_a_run_time_or_a_threshold_from_nowhere_fails(tmp_path: Path) -> None:
    readme = "ADA scores 0.930. It takes 4 min. The threshold is 0.00364686.\n"
    missing = guard.check(_project(tmp_path, readme, "A stale run time: about 3 min; AUROC 0.882."))
    assert len(missing) == 5, missing
    assert any("'0.930'" in line for line in missing) and any("'4 min'" in line for line in missing)
    assert any("0.00364686" in line for line in missing)
    assert any(line.startswith("notebooks/00_x.ipynb: time '3 min'") for line in missing)
    assert any("'0.882'" in line for line in missing)


def test_a_reading_page_is_not_its_own_source(tmp_path: Path) -> None:
    project = _project(tmp_path, "Nothing.\n")
    (project / "results" / "README.md").write_text("ADA 0.955 on clean digits\n")  # in no table
    assert [line.split(":")[0] for line in guard.check(project)] == ["results/README.md"]
