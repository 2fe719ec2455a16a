"""``python -m adda_keras demo`` end to end with tiny settings."""

from __future__ import annotations

import csv
import json

import pytest

from adda_keras.cli import main
from adda_keras.experiments import DemoConfig, run_demo


def test_demo_writes_scores_plots_and_summary(tmp_path):
    config = DemoConfig(digit=1, epochs=1, max_test_anomalies_per_class=15, output_dir=str(tmp_path))
    result = run_demo(config)
    assert set(result.auroc) == {"AnoVAEGAN (pixel residual)", "ADA (CAM + D)"}
    assert all(0.0 <= v <= 1.0 for v in result.auroc.values())
    rows = list(csv.DictReader(open(tmp_path / "scores.csv")))
    assert len(rows) == result.n_test and {"digit", "anomaly", "score_ada", "score_anovaegan"} <= set(rows[0])
    assert all(r["digit"] != "1" for r in rows if r["anomaly"] == "1")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["machine"]["tensorflow"] and summary["config"]["digit"] == 1
    assert (tmp_path / "roc.png").stat().st_size > 1000 and (tmp_path / "examples.png").stat().st_size > 1000
    assert "ADA (CAM + D)" in result.table()


@pytest.mark.parametrize("argv", [["demo", "--digit", "10"], ["demo", "--source", "web"], ["demo", "--epochs", "0"]])
def test_cli_rejects_bad_options(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err
