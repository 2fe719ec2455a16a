"""``reproduce`` with the tiny preset: the CSV, the table, resuming, and bad options."""

from __future__ import annotations

import csv
import json

import pytest

from adda_keras.cli import main
from adda_keras.reproduce import TABLE1_METHODS, TABLE3_METHODS, make_config, run_reproduction

COLUMNS = ["table", "noise", "digit", "known_anomaly", "seed", "method", "auroc", "train_seconds", "score_ms_per_image"]


def read_rows(folder):
    with open(folder / "runs.csv") as handle:
        return list(csv.DictReader(handle))


def test_table1_tiny_writes_csv_table_plots_and_resumes(tmp_path):
    config = make_config(1, "tiny", digits=[3], output_dir=str(tmp_path))
    run_reproduction(config, progress=False)
    folder = tmp_path / "tiny" / "table1-noisy"
    rows = read_rows(folder)
    assert list(rows[0]) == COLUMNS
    assert {r["method"] for r in rows} == set(TABLE1_METHODS)
    assert all(0.0 <= float(r["auroc"]) <= 1.0 and r["digit"] == "3" for r in rows)
    table = (folder / "table.md").read_text()
    assert "| ADA, CAM + D | " in table and "(0.68)" in table  # the paper's digit-3 number beside ours
    assert "kNN distance (pixels)" in table and "Machine:" in table
    assert "python -m adda_keras reproduce --table 1 --preset tiny --digits 3" in table
    assert (folder / "roc_digit3.png").stat().st_size > 1000
    assert json.loads((folder / "config.json").read_text())["preset"]["epochs"] == 1

    unit = folder / "units" / "digit3-seed0.json"
    before = unit.stat().st_mtime_ns
    run_reproduction(config, progress=False)  # finished units are skipped, not retrained
    assert unit.stat().st_mtime_ns == before


def test_table3_tiny_clean(tmp_path):
    config = make_config(3, "tiny", digits=[7], noise=False, output_dir=str(tmp_path))
    rows = run_reproduction(config, progress=False)
    assert {r["method"] for r in rows} == set(TABLE3_METHODS)
    assert all(r["known_anomaly"] == 7 and r["digit"] == 0 for r in rows)
    table = (tmp_path / "tiny" / "table3-clean" / "table.md").read_text()
    assert "ADA CAM + D_G + D_ano" in table and "(0.95)" not in table  # no paper numbers for clean data


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"table": 2}, "table must be 1 or 3"),
        ({"table": 1, "preset": "huge"}, "unknown preset 'huge'"),
        ({"table": 1, "digits": [10]}, "normal digits 0-9"),
        ({"table": 3, "digits": [0]}, "known-anomaly digits 1-9"),
    ],
)
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_config(**kwargs)


def test_cli_reports_bad_digits(capsys):
    assert main(["reproduce", "--table", "3", "--preset", "tiny", "--digits", "0"]) == 2
    assert "known-anomaly digits" in capsys.readouterr().err
