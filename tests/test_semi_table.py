"""Table 3 for every normal digit, and ada-semi's β chosen by the uncertainty rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from adda_keras.cli import main
from adda_keras.data.protocol import AnomalySplit
from adda_keras.detectors import make_detector
from adda_keras.experiments.common import fill_added_parameters
from adda_keras.experiments.semi_supervised import (
    METHODS,
    PART_METHODS,
    PART_SETS,
    ensemble_gain,
    known_anomaly_of,
    make_semi_config,
    part_aurocs,
    read_semi_runs,
    run_semi_table,
    unit_fingerprint,
    write_finished,
)
from studies.semi_analysis import COMBINATIONS, combination_rows, few_anomaly_rows, load_terms


def test_the_known_anomaly_rule_gives_each_digit_another_digit() -> None:
    known = [known_anomaly_of(d) for d in range(10)]
    assert known == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]


def test_part_aurocs_separate_unknown_and_known_anomalies() -> None:
    classes = np.array([0, 0, 0, 1, 1, 2, 2])
    images = np.zeros((7, 4, 4, 1), np.float32)
    split = AnomalySplit(
        images[:1], images[:1], images, (classes != 0).astype(int), classes, 0, 1, images[:0], images[:0], 0
    )
    # the known digit 1 scores above every normal image, the unknown digit 2 below
    scores = np.array([0.5, 0.6, 0.7, 0.9, 0.8, 0.1, 0.2])
    assert part_aurocs(split, scores) == {"unknown": 0.0, "known": 1.0}


def test_semi_config_and_cli_options_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="normal digits 0-9"):
        make_semi_config("tiny", digits=[10])
    with pytest.raises(ValueError, match="n_known"):
        make_semi_config("tiny", n_known=[0])
    assert make_semi_config("tiny", n_known=[20, 20]).n_known == (20,)
    assert main(["reproduce", "--table", "1", "--protocol", "ten-digits"]) == 2
    assert "belongs to --table 3" in capsys.readouterr().err
    assert main(["reproduce", "--table", "3", "--n-known", "5"]) == 2
    assert "--n-known belongs to" in capsys.readouterr().err
    assert main(["reproduce", "--table", "3", "--protocol", "ten-digits", "--noise", "off"]) == 2
    assert "does not apply" in capsys.readouterr().err.replace("do(es)", "does")


def test_ten_digit_table_runs_stores_scores_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_semi_config("tiny", digits=[3], n_known=[5], output_dir=str(tmp_path))
    rows = run_semi_table(config, progress=False)
    assert [r["method"] for r in rows] == list(METHODS)
    assert all(r["known_digit"] == 4 and 0 <= r["auroc_unknown"] <= 1 and 0 <= r["auroc_known"] <= 1 for r in rows)
    semi = next(r for r in rows if r["method"] == "ada-semi")
    assert semi["beta_selected"] == 0.5  # one validation anomaly: too few to move beta
    scores = np.load(config.folder / "units" / "normal3-seed0.npz")
    assert {f"{m}-n5" for m in METHODS} <= set(scores.files)
    for method in PART_METHODS:  # the stored score terms give back each detector's test scores
        rebuilt = (
            scores[f"{method}-test-residual-n5"]
            - scores[f"{method}-beta_raw-n5"] * scores[f"{method}-test-probability-n5"]
        )
        np.testing.assert_allclose(rebuilt, scores[f"{method}-n5"], rtol=1e-5, atol=1e-6)
        assert all(f"{method}-{name}-residual-n5" in scores.files for name in PART_SETS)
    # what each discriminator believed, kept per image set (issue 26, item 1): D_ano's belief is the sum's other half
    for network in ("D_G", "D_ano"):
        assert all(f"belief-{network}-{name}-n5" in scores.files for name in ("train", *PART_SETS))
    np.testing.assert_allclose(
        scores["belief-D_G-test-n5"] + scores["belief-D_ano-test-n5"], scores["ada-semi-test-probability-n5"], atol=1e-5
    )
    # the analyses read the stored terms: the paper's sum and D_G alone are the table's ada-semi and ada rows
    combined = {r["combination"]: r for r in combination_rows(config.folder / "units", [3], 0, n_known=5)}
    assert list(combined) == list(COMBINATIONS)
    by_method = {r["method"]: r for r in rows}
    for name, method in (("D_G only (ADA)", "ada"), ("paper: sum of CAMs and D (ada-semi)", "ada-semi")):
        assert combined[name]["test_unknown"] == pytest.approx(by_method[method]["auroc_unknown"], abs=1e-4)
        assert combined[name]["test_known"] == pytest.approx(by_method[method]["auroc_known"], abs=1e-4)
    assert all(0 <= r[k] <= 1 for r in combined.values() for k in r if k.startswith(("val_", "test_")))
    few = few_anomaly_rows(config.folder / "units", [3], 0, counts=[1, 3], draws=4, n_known=5)
    assert [r["labelled"] for r in few] == [1, 3]
    assert all(r["rule_moved"] == 0 and r["rule_worst_change"] == 0 for r in few)  # fewer than 10: beta stays
    typed = read_semi_runs(config.folder)  # what the notebooks read
    assert [(r["method"], r["auroc_unknown"]) for r in typed] == [(r["method"], r["auroc_unknown"]) for r in rows]
    gain = by_method["ada-semi"]["auroc_known"] - by_method["ada"]["auroc_known"]
    assert ensemble_gain(typed, "known", 5) == {3: pytest.approx(gain)}
    table = (config.folder / "table.md").read_text()
    assert "n_known = 5, unknown anomalies" in table and "3 (known 4)" in table
    assert "--protocol ten-digits --preset tiny --digits 3 --n-known 5" in table

    def fail(*args, **kwargs):
        raise AssertionError("a finished unit was recomputed")

    monkeypatch.setattr("adda_keras.experiments.semi_supervised.run_semi_unit", fail)
    assert run_semi_table(config, progress=False) == rows
    # the tables of an interrupted run: the finished units of a run of more digits, written without training
    more = make_semi_config("tiny", digits=[3, 4], n_known=[5], output_dir=str(tmp_path))
    assert write_finished(more) == rows
    assert "Units in this table: 1 of 2" in (more.folder / "table.md").read_text()
    with pytest.raises(ValueError, match="no finished unit"):
        write_finished(make_semi_config("tiny", digits=[4], n_known=[5], output_dir=str(tmp_path)))


def test_ada_semi_records_its_beta_decision_and_old_units_read_as_greedy(trained_ada, tiny_split) -> None:
    known = tiny_split.x_test[tiny_split.y_test == 1]
    semi = make_detector("ada-semi", epochs=1, batch_size=32, seed=0)
    semi.fit(
        tiny_split.x_train[:64],
        tiny_split.x_val[:32],
        x_known=known[:16],
        x_val_known=known[16:19],
        self_supervised=trained_ada,
    )
    assert semi.beta_selected_ == 0.5 and semi.beta_choice_["n_anomalies"] == 3 and semi.beta_choice_["warnings"]
    assert set(semi.beta_validation_) >= {0.0, 0.5, 5.0}
    assert semi.get_params()["beta_switch_se"] == 2.0
    assert make_detector("ada-synthetic").get_params()["beta_switch_se"] == 2.0  # the same rule (issue 28, 13)
    # a Table 3 unit stored before the rule existed chose the best AUROC: it must read as stale, not as current
    config = make_semi_config("tiny", digits=[3], n_known=[5])
    current = unit_fingerprint(config, 3, 0)
    old = json.loads(json.dumps(current))
    del old["detectors"]["ada-semi"]["beta_switch_se"]
    assert fill_added_parameters(old, current) != current
    assert fill_added_parameters(current, current) == current


def test_units_without_score_terms_are_named(tmp_path: Path) -> None:
    np.savez(tmp_path / "normal3-seed0.npz", **{"ada-n5": np.zeros(3)})  # a unit stored before the terms
    with pytest.raises(ValueError, match="before units kept score terms"):
        load_terms(tmp_path, 3, 0)
    with pytest.raises(ValueError, match="no stored unit"):
        load_terms(tmp_path, 4, 0)
