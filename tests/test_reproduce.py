"""``reproduce`` with the tiny preset: the CSV, the table, resuming, and bad options."""

from __future__ import annotations

import csv
import json
import logging
import os

import pytest

from adda_keras.cli import main
from adda_keras.data import apply_noise
from adda_keras.experiments import reproduce
from adda_keras.experiments.reproduce import (
    TABLE1_METHODS,
    TABLE3_METHODS,
    command_line,
    make_config,
    run_reproduction,
    unit_fingerprint,
)

COLUMNS = ["table", "noise", "digit", "known_anomaly", "seed", "method", "auroc", "train_seconds", "score_ms_per_image"]


def read_rows(folder):
    with open(folder / "runs.csv") as handle:
        return list(csv.DictReader(handle))


def test_table1_tiny_writes_csv_table_plots_and_resumes(tmp_path, monkeypatch):
    noise_seeds = []

    def recording_apply_noise(split, noise, seed):
        noise_seeds.append(seed)
        return apply_noise(split, noise, seed)

    monkeypatch.setattr(reproduce, "apply_noise", recording_apply_noise)
    config = make_config(1, "tiny", digits=[3], output_dir=str(tmp_path), noise_seed=5)
    run_reproduction(config, progress=False)
    assert noise_seeds == [5]  # --noise-seed reaches the split's noise
    folder = tmp_path / "tiny" / "table1-noisy-nseed5"
    rows = read_rows(folder)
    assert list(rows[0])[: len(COLUMNS)] == COLUMNS
    assert {r["method"] for r in rows} == set(TABLE1_METHODS)
    assert all(0.0 <= float(r["auroc"]) <= 1.0 and r["digit"] == "3" for r in rows)
    table = (folder / "table.md").read_text()
    assert "| ADA, CAM + D | " in table and "(0.68)" in table  # the paper's digit-3 number beside ours
    assert "kNN distance (pixels)" in table and "Machine:" in table
    assert "python -m adda_keras reproduce --table 1 --preset tiny --digits 3 --noise-seed 5" in table
    assert (folder / "roc_digit3.png").stat().st_size > 1000
    assert json.loads((folder / "config.json").read_text())["preset"]["epochs"] == 1
    # AnoVAEGAN and the ADA scores are scores of one trained VAEGAN, whose health is reported
    by_method = {r["method"]: r for r in rows}
    vaegan_rows = [by_method[m] for m in ("anovaegan", "ada-d-only", "ada-cam-only", "ada")]
    assert len({r["train_seconds"] for r in vaegan_rows}) == 1
    assert float(by_method["ada"]["attention_share"]) >= 0 and by_method["knn"]["attention_share"] == ""
    assert "| attention share on the digit" in table

    unit = folder / "units" / "digit3-seed0.json"
    before = unit.stat().st_mtime_ns
    run_reproduction(config, progress=False)  # finished units are skipped, not retrained
    assert unit.stat().st_mtime_ns == before

    # the same folder with more epochs: refused before training, naming the setting
    more_epochs = make_config(1, "tiny", digits=[3], output_dir=str(tmp_path), noise_seed=5, epochs=3)
    with pytest.raises(ValueError, match=r"digit3-seed0: preset\.epochs 1 \(now 3\).*--overwrite"):
        run_reproduction(more_epochs, progress=False)
    assert unit.stat().st_mtime_ns == before


def knn_only(tmp_path, **options):
    """A Table 3 configuration that trains only the classical detectors: seconds per unit."""
    return make_config(3, "tiny", **{"digits": [7], "methods": ["knn"], "output_dir": str(tmp_path), **options})


def test_stale_units_are_refused_or_recomputed_with_overwrite(tmp_path):
    run_reproduction(knn_only(tmp_path), progress=False)
    unit = tmp_path / "tiny" / "table3-noisy" / "units" / "digit7-seed0.json"
    assert json.loads(unit.read_text())["fingerprint"]["preset"]["epochs"] == 1
    for options, difference in [
        ({"epochs": 2}, r"preset\.epochs 1 \(now 2\)"),
        ({"methods": ["knn", "pca"]}, r"methods \["),
    ]:
        with pytest.raises(ValueError, match=rf"digit7-seed0: .*{difference}"):
            run_reproduction(knn_only(tmp_path, **options), progress=False)
    rows = run_reproduction(knn_only(tmp_path, epochs=2, overwrite=True), progress=False)
    assert [r["method"] for r in rows] == ["knn"]
    assert json.loads(unit.read_text())["fingerprint"]["preset"]["epochs"] == 2


def test_units_of_an_older_version_are_refused(tmp_path):
    units = tmp_path / "tiny" / "table3-noisy" / "units"
    units.mkdir(parents=True)
    (units / "digit7-seed0.json").write_text(json.dumps([{"method": "knn", "auroc": 0.9}]))
    with pytest.raises(ValueError, match="older version that recorded no settings"):
        run_reproduction(knn_only(tmp_path), progress=False)


def test_fingerprint_covers_detector_parameters():
    config = make_config(1, "tiny", digits=[3])
    fingerprint = unit_fingerprint(config, 3, 0)
    assert fingerprint["detectors"]["anogan"]["search_steps"] == 5
    assert fingerprint["detectors"]["knn"]["n_neighbors"] == 5
    assert fingerprint["noise_seed"] == 0 and fingerprint["source"] == "bundled"
    assert unit_fingerprint(make_config(1, "tiny", digits=[3], noise_seed=7), 3, 0)["noise_seed"] == 7


def test_units_stored_before_an_option_existed_are_reused_at_its_neutral_value(tmp_path):
    """Regression: adding ``diff_augment``, ``equilibrium`` (off) must not make every stored VAEGAN result stale."""
    config = make_config(1, "tiny", digits=[3], methods=["ada", "knn"], output_dir=str(tmp_path))
    current = unit_fingerprint(config, 3, 0)
    assert current["detectors"]["ada"]["diff_augment"] is False
    stored = json.loads(json.dumps(current))
    del stored["detectors"]["ada"]["diff_augment"], stored["detectors"]["ada"]["equilibrium"]
    unit = tmp_path / "tiny" / "table1-noisy" / "units" / "digit3-seed0.json"
    unit.parent.mkdir(parents=True)
    unit.write_text(json.dumps({"fingerprint": stored, "rows": []}))
    assert reproduce._stale_units(config, {(3, 0): current}) == {}
    # a run that uses the new option still differs from results stored without it
    using = json.loads(json.dumps(current))
    using["detectors"]["ada"]["diff_augment"] = True
    assert "diff_augment false (now true) for ada" in reproduce._stale_units(config, {(3, 0): using})[(3, 0)]
    # only the listed parameters are filled in: another missing parameter is still a difference
    del stored["detectors"]["ada"]["kl_weight"]
    unit.write_text(json.dumps({"fingerprint": stored, "rows": []}))
    assert "kl_weight" in reproduce._stale_units(config, {(3, 0): current})[(3, 0)]


def test_other_noise_settings_get_their_own_folder(tmp_path):
    assert make_config(1, "tiny").folder.name == "table1-noisy"
    assert make_config(1, "tiny", noise_strength=1.0).folder.name == "table1-noisy"
    assert make_config(1, "tiny", noise_strength=0.5).folder.name == "table1-noisy-s0.5"
    assert make_config(1, "tiny", noise_seed=7).folder.name == "table1-noisy-nseed7"
    config = make_config(1, "tiny", digits=[3], noise_strength=0.5, noise_seed=7, methods=["ada", "knn"])
    assert config.folder.name == "table1-noisy-s0.5-nseed7"
    assert command_line(config).endswith("--digits 3 --noise-strength 0.5 --noise-seed 7 --methods ada knn")
    run_reproduction(knn_only(tmp_path, noise_strength=0.5), progress=False)
    assert (tmp_path / "tiny" / "table3-noisy-s0.5" / "runs.csv").exists()
    assert not (tmp_path / "tiny" / "table3-noisy").exists()
    table = (tmp_path / "tiny" / "table3-noisy-s0.5" / "table.md").read_text()
    assert "kNN distance (pixels)" in table and "| ADA" not in table and "(0.95)" not in table


def test_repeated_digits_seeds_and_methods_run_once(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="adda_keras.experiments.reproduce"):
        config = knn_only(tmp_path, digits=[7, 7, 3], seeds=[0, 0], methods=["knn", "knn"])
    assert config.digits == (7, 3) and config.preset.seeds == (0,) and config.selected_methods == ("knn",)
    assert sum("repeat" in r.getMessage() for r in caplog.records) == 3
    run_reproduction(config, progress=False)
    rows = read_rows(tmp_path / "tiny" / "table3-noisy")
    assert sorted(r["known_anomaly"] for r in rows) == ["3", "7"]
    assert make_config(1, "tiny", digits=[0, 0, 1]).digits == (0, 1)


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
        ({"table": 1, "digits": [2.5]}, "normal digits 0-9"),
        ({"table": 1, "seeds": [-1]}, r"seeds must be an integer in \[0, 4294967295\]"),
        ({"table": 1, "seeds": []}, "at least one seed"),
        ({"table": 1, "source": "web"}, "source must be one of"),
        ({"table": 1, "epochs": 0}, "epochs"),
        ({"table": 1, "methods": ["ada", "cnn-regression"]}, r"methods for table 1 must be among .*'cnn-regression'"),
        ({"table": 1, "noise_strength": 0.0}, r"noise_strength.*--noise off"),
        ({"table": 1, "noise_strength": float("nan")}, "noise_strength"),
        ({"table": 1, "noise": False, "noise_seed": 3}, "need the noise on"),
        ({"table": 1, "noise_seed": -2}, "noise_seed"),
    ],
)
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_config(**kwargs)


def test_cli_reports_bad_digits(capsys):
    assert main(["reproduce", "--table", "3", "--preset", "tiny", "--digits", "0"]) == 2
    assert "known-anomaly digits" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seeds", "-1"], "seeds must be an integer"),
        (["--methods", "adaa"], "methods for table 3 must be among"),
        (["--output", "{file}"], "is a file"),
        (["--output", "{file}/sub"], "is a file"),
    ],
)
def test_cli_errors_are_one_line_before_any_work(tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("not a folder")
    argv = [arg.format(file=tmp_path / "file") for arg in argv]
    assert main(["reproduce", "--table", "3", "--preset", "tiny", "--digits", "7", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cli_refuses_a_read_only_output_folder(tmp_path, capsys):
    tmp_path.chmod(0o555)
    try:
        assert main(["reproduce", "--table", "3", "--preset", "tiny", "--output", str(tmp_path / "out")]) == 2
    finally:
        tmp_path.chmod(0o755)
    assert "not writable" in capsys.readouterr().err
