"""Own images, day to day: maps as data, unreadable files, no lost files, recalibration and export."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adda_keras import load_detector, make_detector
from adda_keras.cli import main
from adda_keras.detectors.export import TFLITE_BATCH
from adda_keras.experiments.own_images import (
    CalibrateConfig,
    FitConfig,
    ScoreConfig,
    calibrate_model,
    fit_folder,
    load_images_for,
    read_scores_csv,
    score_paths,
)

ROOT = Path(__file__).resolve().parents[1]


def _write(folder: Path, images: np.ndarray, prefix: str = "img") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, image in enumerate(images):
        path = folder / f"{prefix}_{index:02d}.png"
        Image.fromarray(np.round(image[..., 0] * 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16x16 grayscale ``train/``, ``val/``, ``test/`` (half of it with a bright square) and ``known/`` anomalies."""
    root = tmp_path_factory.mktemp("own")
    rng = np.random.default_rng(0)

    def normal(n: int) -> np.ndarray:
        return rng.uniform(0, 0.3, (n, 16, 16, 1))

    def anomalous(n: int) -> np.ndarray:
        images = normal(n)
        images[:, 4:10, 4:10] = 1.0
        return images

    _write(root / "train", normal(30))
    _write(root / "val", normal(20))
    _write(root / "test", np.concatenate([normal(6), anomalous(6)]))
    _write(root / "known", anomalous(12))
    return root


@pytest.fixture(scope="module")
def knn_model(folders: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("knn") / "knn.pkl"
    fit_folder(FitConfig(str(folders / "train"), str(out), method="knn", val_dir=str(folders / "val")))
    return out


def test_fit_reads_the_folders_own_size_and_colour(knn_model: Path) -> None:
    """Regression: the CLI read 16x16 grayscale files as 64x64 RGB, while load_folder_dataset read 28x28 gray."""
    assert load_detector(knn_model).image_shape_ == (16, 16, 1)


def test_maps_as_data_at_the_files_own_size_overlays_and_normalised_scores(
    folders: Path, knn_model: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    Image.fromarray(np.full((24, 40), 30, np.uint8)).save(other / "wide.png")  # read at 16x16, mapped back to 24x40
    report = score_paths(
        ScoreConfig(
            str(knn_model),
            [str(folders / "test"), str(other)],
            str(tmp_path / "s.csv"),
            maps=str(tmp_path / "maps"),
            overlays=str(tmp_path / "overlays"),
        )
    )
    rows = list(csv.DictReader(open(tmp_path / "s.csv", newline="")))
    assert list(rows[0]) == ["path", "score", "label", "threshold", "normalised_score", "map", "overlay"]
    detector = load_detector(knn_model)
    files, images = load_images_for(detector, [folders / "test"])
    maps = detector.anomaly_map(images)
    np.testing.assert_allclose(np.load(rows[0]["map"]), maps[0], rtol=1e-6)  # same size: the map itself
    assert np.load(rows[-1]["map"]).shape == (24, 40) and np.load(rows[-1]["map"]).dtype == np.float32
    picture = Image.open(rows[0]["overlay"])
    assert picture.mode == "RGB" and picture.height >= 128 and len(report.overlay_files) == 13
    # normalised: a monotone rescaling with the threshold at 1 and the normal validation median at 0
    table = read_scores_csv(tmp_path / "s.csv")
    normalised = table["normalised_scores"]
    legacy = tmp_path / "legacy.csv"  # a CSV from before the normalised column still reads
    legacy.write_text("path,score,label,threshold\na.png,0.5,1,0.25\n")
    assert read_scores_csv(legacy)["normalised_scores"] is None and read_scores_csv(legacy)["labels"].tolist() == [1]
    assert np.array_equal(np.argsort(normalised, kind="stable"), np.argsort(table["scores"], kind="stable"))
    np.testing.assert_array_equal(normalised > 1.0, table["labels"] == 1)
    median = detector.threshold_info_["normal_median"]
    np.testing.assert_allclose(normalised, (table["scores"] - median) / (detector.threshold_ - median), rtol=1e-5)
    assert "threshold: target false-positive rate 0.05, fitted on 20 normal validation images" in report.summary()


def test_unreadable_files_stop_the_run_or_are_skipped_and_listed(folders: Path, knn_model: Path, tmp_path) -> None:
    """Regression: one broken file aborted the whole run after truncating the previous CSV."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.png").write_bytes(b"\x89PNG not really")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(broken / "good.png")
    out = tmp_path / "old.csv"
    out.write_text("the previous scores\n")
    with pytest.raises(ValueError, match="bad.png"):
        score_paths(ScoreConfig(str(knn_model), [str(folders / "test"), str(broken)], str(out)))
    assert out.read_text() == "the previous scores\n"  # untouched: written whole or not at all
    report = score_paths(
        ScoreConfig(str(knn_model), [str(folders / "test"), str(broken)], str(out), skip_unreadable=True)
    )
    assert len(report.files) == 13 and [s.path.name for s in report.skipped] == ["bad.png"]
    assert "skipped 1 unreadable file(s)" in report.summary() and "bad.png" in report.summary()
    assert len(read_scores_csv(out)["paths"]) == 13
    with pytest.raises(ValueError, match="none of the 1 image files"):
        score_paths(ScoreConfig(str(knn_model), [str(broken / "bad.png")], str(out), skip_unreadable=True))


def test_calibrate_refits_the_threshold_without_retraining(folders: Path, knn_model: Path, tmp_path: Path) -> None:
    before = load_detector(knn_model)
    out = tmp_path / "recalibrated.pkl"
    report = calibrate_model(CalibrateConfig(str(knn_model), str(folders / "test"), str(out), target_fpr=0.5))
    after = load_detector(out)
    assert after.threshold_info_["target_fpr"] == 0.5 and after.threshold_info_["n_normal"] == 12
    assert after.threshold_ != before.threshold_ and "threshold" in report.summary()
    _, images = load_images_for(before, [folders / "val"])
    np.testing.assert_array_equal(after.score_samples(images), before.score_samples(images))  # same model
    assert load_detector(knn_model).threshold_ == before.threshold_  # the original file is untouched
    f1 = calibrate_model(
        CalibrateConfig(
            str(knn_model), str(folders / "val"), str(out), threshold="f1", known_anomaly_dir=str(folders / "known")
        )
    )
    assert f1.detector.threshold_info_["strategy"] == "f1" and f1.detector.threshold_info_["n_anomalies"] == 12
    with pytest.raises(ValueError, match="also an input"):
        calibrate_model(CalibrateConfig(str(knn_model), str(folders / "val"), str(knn_model)))
    with pytest.raises(ValueError, match="content of a validation image"):
        calibrate_model(
            CalibrateConfig(str(knn_model), str(folders / "val"), str(out), known_anomaly_dir=str(folders / "val"))
        )
    with pytest.raises(ValueError, match="applies to 'ada'"):
        calibrate_model(
            CalibrateConfig(
                str(knn_model), str(folders / "val"), str(out), known_anomaly_dir=str(folders / "known"),
                beta_from_known=True,
            )
        )  # fmt: skip


@pytest.fixture(scope="module")
def ada_files(trained_ada, tiny_split, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ada")
    trained_ada.save(root / "ada.keras")
    _write(root / "val", tiny_split.x_val[64:104])
    _write(root / "known", tiny_split.x_test[tiny_split.y_test == 1][:12])
    _write(root / "test", tiny_split.x_test[:16])
    return {"root": root, "model": root / "ada.keras"}


def test_calibrate_chooses_ada_beta_on_known_anomalies_from_the_command_line(ada_files, capsys) -> None:
    root = ada_files["root"]
    argv = [
        "calibrate",
        str(ada_files["model"]),
        "--val-dir",
        str(root / "val"),
        "--known-anomaly",
        str(root / "known"),
    ]
    assert main([*argv, "--beta-from-known", "--out", str(root / "tuned.keras")]) == 0
    printed = capsys.readouterr().out
    assert "on the known anomalies" in printed and "bootstrap standard error over 12 anomalies" in printed
    tuned = load_detector(root / "tuned.keras")
    n_val = len(list((root / "val").glob("*.png")))
    assert tuned.threshold_info_["n_normal"] == n_val and tuned.threshold_info_["n_anomalies"] == 12
    assert f"model saved to {root / 'tuned.keras'}" in printed


@pytest.mark.parametrize("fmt", ["savedmodel", "tflite"])
def test_exported_models_score_like_the_library_in_a_fresh_process(ada_files, fmt: str, tmp_path: Path) -> None:
    model = ada_files["model"]
    out = tmp_path / ("ada.tflite" if fmt == "tflite" else "ada_savedmodel")
    assert main(["export", str(model), "--format", fmt, "--out", str(out)]) == 0
    detector = load_detector(model)
    _, images = load_images_for(detector, [ada_files["root"] / "test"])
    images = np.concatenate([images, images[:5]])  # not a multiple of the TFLite batch
    np.save(tmp_path / "images.npy", images)
    script = f"""
import json, sys
import numpy as np
import tensorflow as tf
assert "adda_keras" not in sys.modules
images = np.load({str(tmp_path / "images.npy")!r})
if {fmt!r} == "savedmodel":
    serve = tf.saved_model.load({str(out)!r}).signatures["serving_default"]
    results = [{{k: v.numpy() for k, v in serve(images=tf.constant(images)).items()}}]
else:
    runner = tf.lite.Interpreter(model_path={str(out)!r}).get_signature_runner()
    batch = runner.get_input_details()["images"]["shape"][0]
    assert batch == {TFLITE_BATCH}, batch
    results = []
    for i in range(0, len(images), batch):  # a fixed batch: pad the last one, keep its first rows
        chunk = images[i : i + batch]
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], batch - len(chunk), axis=0)])
        results.append({{k: v[: len(chunk)] for k, v in runner(images=padded).items()}})
print(json.dumps({{k: np.concatenate([r[k] for r in results]).ravel().tolist() for k in ("score", "map", "label")}}))
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd="/")
    assert run.returncode == 0, run.stderr[-3000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    expected = detector.predict(images)
    np.testing.assert_allclose(served["score"], expected.scores, atol=1e-5, rtol=0)
    np.testing.assert_allclose(served["map"], expected.maps.ravel(), atol=1e-5, rtol=0)
    np.testing.assert_array_equal(served["label"], expected.labels)


def test_export_refuses_what_it_cannot_serve(knn_model: Path, ada_files, tmp_path: Path, capsys) -> None:
    assert main(["export", str(knn_model), "--out", str(tmp_path / "knn")]) == 2
    assert "cannot be exported" in capsys.readouterr().err
    assert main(["export", str(ada_files["model"]), "--format", "tflite", "--out", str(tmp_path / "x.bin")]) == 2
    assert "'.tflite' file" in capsys.readouterr().err
    unthresholded = make_detector("knn").fit(np.zeros((4, 8, 8, 1), np.float32))
    from adda_keras.detectors.export import export_detector

    with pytest.raises(ValueError, match="cannot be exported"):
        export_detector(unthresholded, tmp_path / "knn")
    with pytest.raises(ValueError, match="latent search"):
        export_detector(make_detector("anogan"), tmp_path / "anogan")


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_never_deletes_what_it_did_not_write(ada_files, tmp_path: Path, monkeypatch, capsys) -> None:
    """Regression (issue 28, item 9): ``--out`` naming the model's folder deleted the model; ``--out .`` deleted
    every file of the current folder; an existing folder of the user's was replaced."""
    home = tmp_path / "models"
    home.mkdir()
    model = home / "ada.keras"
    model.write_bytes(ada_files["model"].read_bytes())
    (home / "keep.txt").write_text("mine")
    before = _listing(home)
    assert main(["export", str(model), "--out", str(home)]) == 2
    assert "holds the input" in capsys.readouterr().err
    monkeypatch.chdir(home)
    assert main(["export", "ada.keras", "--out", "."]) == 2
    assert "holds the input" in capsys.readouterr().err
    users = tmp_path / "users"
    users.mkdir()
    (users / "notes.txt").write_text("also mine")
    assert main(["export", "ada.keras", "--out", str(users)]) == 2
    assert "did not write" in capsys.readouterr().err
    assert _listing(home) == before and _listing(users) == {"notes.txt": b"also mine"}
    # an earlier export of its own is what it may replace
    exported = tmp_path / "served"
    assert main(["export", "ada.keras", "--out", str(exported)]) == 0
    assert main(["export", "ada.keras", "--out", str(exported)]) == 0
    assert (exported / "saved_model.pb").is_file() and _listing(home) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a staging folder was left behind"


def test_export_and_fit_refuse_a_folder_where_a_file_goes(ada_files, folders: Path, tmp_path: Path, capsys) -> None:
    """Regression (issue 28, item 10): a folder named like the TFLite file, or given as ``fit --log``, raised a
    traceback (``IsADirectoryError`` from the atomic rename, after training); now one error line, before."""
    (tmp_path / "dir.tflite").mkdir()
    argv = ["export", str(ada_files["model"]), "--format", "tflite", "--out", str(tmp_path / "dir.tflite")]
    assert main(argv) == 2
    assert "existing folder" in capsys.readouterr().err
    (tmp_path / "logs").mkdir()
    fit = ["fit", str(folders / "train"), "--method", "ada", "--epochs", "1", "--out", str(tmp_path / "m.keras")]
    assert main([*fit, "--log", str(tmp_path / "logs")]) == 2
    assert "the log file (--log) must be a file name" in capsys.readouterr().err
    assert not (tmp_path / "m.keras").exists()


def test_ctrl_c_during_fit_says_one_line_and_keeps_the_earlier_model(
    folders: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    """Regression (issue 28, item 11): Ctrl-C in ``fit`` printed a ~40-line traceback."""
    import keras

    out = tmp_path / "m.keras"
    out.write_bytes(b"the earlier model")

    def interrupt(self, epoch, logs=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.callbacks.CSVLogger, "on_epoch_end", interrupt)
    argv = ["fit", str(folders / "train"), "--method", "ada", "--epochs", "3", "--batch-size", "8"]
    assert main([*argv, "--out", str(out)]) == 130
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err and len(printed.err.strip().splitlines()) == 1
    assert printed.err.startswith("interrupted: fit stopped")
    assert out.read_bytes() == b"the earlier model"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_one_fit_gives_each_warning_once(folders: Path, tmp_path: Path, caplog) -> None:
    """Regression (issue 28, item 8): one ``fit`` printed the small-validation-set warning three times (the
    ensemble's inner self-supervised fit, its own fit, the refit at the user's target)."""
    argv = ["fit", str(folders / "train"), "--val-dir", str(folders / "val"), "--method", "ada-semi"]
    argv += ["--known-anomaly", str(folders / "known"), "--epochs", "1", "--batch-size", "8"]
    with caplog.at_level("WARNING"):
        assert main([*argv, "--out", str(tmp_path / "semi.keras")]) == 0
    assert sum("within a factor of two" in r.getMessage() for r in caplog.records) == 1


def test_re_encoded_copies_are_refused_like_byte_copies(folders: Path, tmp_path: Path, capsys) -> None:
    """Regression (issue 28, item 12): training images re-saved as BMP (or grayscale as RGB) in the validation
    folder, or validation images re-saved as known anomalies, passed the byte comparison (SHA-256 of the file)."""
    from adda_keras.data import pixel_digest

    bmp_val, rgb_known = tmp_path / "val", tmp_path / "known"
    bmp_val.mkdir()
    rgb_known.mkdir()
    for path in sorted((folders / "val").glob("*.png"))[:5]:
        Image.open(path).save(bmp_val / f"{path.stem}.bmp")
    Image.open(sorted((folders / "train").glob("*.png"))[0]).save(bmp_val / "train_copy.bmp")
    Image.open(sorted((folders / "val").glob("*.png"))[0]).convert("RGB").save(rgb_known / "again.tif")
    first_train = sorted((folders / "train").glob("*.png"))[0]
    assert pixel_digest(bmp_val / "train_copy.bmp") == pixel_digest(first_train)
    assert (bmp_val / "train_copy.bmp").read_bytes() != first_train.read_bytes()
    fit = ["fit", str(folders / "train"), "--method", "knn", "--out", str(tmp_path / "k.pkl")]
    assert main([*fit, "--val-dir", str(bmp_val)]) == 2
    assert "content of a training image" in capsys.readouterr().err
    assert main([*fit, "--val-dir", str(folders / "val"), "--known-anomaly", str(rgb_known)]) == 2
    assert "content of a normal image" in capsys.readouterr().err
    assert not (tmp_path / "k.pkl").exists()


def test_a_lone_known_anomaly_is_named_before_training(folders: Path, tmp_path: Path, monkeypatch, caplog) -> None:
    """Regression (issue 28, item 13): ``fit --known-anomaly`` with one image trained for the whole run before saying
    that one image cannot choose β."""
    from adda_keras.detectors.ada import VAEGANDetector

    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "a.png").write_bytes(sorted((folders / "known").glob("*.png"))[0].read_bytes())

    def no_training(self, *args, **kwargs):
        raise KeyboardInterrupt  # training would start here

    monkeypatch.setattr(VAEGANDetector, "fit", no_training)
    argv = ["fit", str(folders / "train"), "--val-dir", str(folders / "val"), "--known-anomaly", str(lone)]
    with caplog.at_level("WARNING"):
        assert main([*argv, "--out", str(tmp_path / "m.keras")]) == 130
    assert any("holds 1 image(s), fewer than the 10" in r.getMessage() for r in caplog.records)


def test_without_tensorflow_the_error_names_the_extra(tmp_path: Path) -> None:
    """Regression (issue 28, item 13): the wheel without its [cpu] extra failed with "No module named 'tensorflow'"."""
    script = (
        "import sys\n"
        "sys.modules['tensorflow'] = None\n"  # as in an environment without it
        "try:\n"
        "    from adda_keras import make_detector\n"
        "except ImportError as error:\n"
        "    print('API:', error)\n"
        "from adda_keras.cli import main\n"
        f"print('CLI status', main(['fit', {str(tmp_path)!r}, '--out', {str(tmp_path / 'm.keras')!r}]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "API: adda_keras needs the module 'tensorflow', which comes with its [cpu] extra" in run.stdout
    assert "CLI status 2" in run.stdout and "[cpu] extra" in run.stderr, run.stderr[-2000:]
