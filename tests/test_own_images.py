"""Your own images: ``adda-keras fit`` / ``score`` on folders, thresholds fitted on validation, sizes and colour."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adda_keras import load_detector, make_detector
from adda_keras.cli import main
from adda_keras.data import find_image_files, load_image_files
from adda_keras.evaluation import wilson_interval
from adda_keras.experiments.own_images import CSV_COLUMNS, FitConfig, fit_folder, load_images_for, read_scores_csv
from adda_keras.models import build_decoder, build_discriminator, build_encoder, check_network_shape, extra_stages

ROOT = Path(__file__).resolve().parents[1]


def _stripes(rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """A normal RGB image: horizontal stripes of two colours, a little noise."""
    colours = rng.uniform(0.2, 0.6, (2, 3))
    rows = (np.arange(size) // 8) % 2
    image = colours[rows][:, None, :].repeat(size, axis=1)
    return np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1)


def _write(folder: Path, images: list[np.ndarray]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images):
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(folder / f"img_{index:02d}.png")


@pytest.fixture(scope="module")
def rgb_folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``normal/`` (16 striped 64x64 RGB images) and ``anomalies/`` (4 with a red square)."""
    root = tmp_path_factory.mktemp("rgb")
    rng = np.random.default_rng(0)
    _write(root / "normal", [_stripes(rng) for _ in range(16)])
    anomalies = []
    for _ in range(4):
        image = _stripes(rng)
        image[20:40, 20:40] = (1.0, 0.0, 0.0)
        anomalies.append(image)
    _write(root / "anomalies", anomalies)
    return root


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    run = subprocess.run(
        [sys.executable, "-m", "adda_keras", *args], capture_output=True, text=True, timeout=600, env=env, cwd=ROOT
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run


def test_fit_and_score_commands_on_an_rgb_folder(rgb_folders: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.keras"
    fit = _cli(
        "fit", str(rgb_folders / "normal"), "--out", str(model), "--epochs", "1", "--batch-size", "8",
        "--val-fraction", "0.25", "--seed", "3",
    )  # fmt: skip
    assert "16 normal images" in fit.stdout and "12 to train, 4 held out for validation" in fit.stdout
    assert "64x64 (every file's own size), rgb (some files are in colour)" in fit.stdout  # the folder decided
    assert f"model saved to {model}" in fit.stdout
    assert "epoch 1/1  loss_pixel" in fit.stdout and "s/step" not in fit.stdout  # one line per epoch, not Keras'
    log = (tmp_path / "model.log.csv").read_text().splitlines()
    assert len(log) == 2 and {"loss_pixel", "val_loss_pixel", "d_real"} <= set(log[0].split(","))  # every metric
    out, maps = tmp_path / "scores.csv", tmp_path / "maps"
    score = _cli(
        "score", str(model), str(rgb_folders / "normal"), str(rgb_folders / "anomalies"),
        "--out", str(out), "--maps", str(maps),
    )  # fmt: skip
    assert "scored 20 images" in score.stdout

    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0])[:5] == CSV_COLUMNS and len(rows) == 20
    detector = load_detector(model)
    assert detector.image_shape_ == (64, 64, 3) and detector.threshold_ is not None
    info = detector.threshold_info_
    assert info["strategy"] == "fpr" and info["target_fpr"] == 0.05 and info["n_normal"] == 4
    table = read_scores_csv(out)
    assert table["threshold"] == pytest.approx(detector.threshold_, rel=1e-8)
    np.testing.assert_array_equal(table["labels"], (table["scores"] > detector.threshold_).astype(int))
    # the Python API on the same files gives the same scores
    files, images = load_images_for(detector, [rgb_folders / "normal", rgb_folders / "anomalies"])
    assert [str(f) for f in files] == table["paths"]
    np.testing.assert_allclose(table["scores"], detector.score_samples(images), rtol=1e-6, atol=1e-9)
    arrays = sorted(maps.glob("*.npy"))
    assert len(arrays) == 20 and all(Path(row["map"]).is_file() for row in rows)
    np.testing.assert_allclose(np.load(rows[0]["map"]), detector.anomaly_map(images[:1])[0], rtol=1e-5, atol=1e-7)


def _one_error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--image-size", "100"], "multiples of 16"),
        (["--image-size", "big"], "--image-size"),
        (["--val-fraction", "0"], "--val-fraction"),
        (["--image-size", "65536"], "1 to 1024 pixels"),
        (["--epochs", "100000"], "--epochs"),
        (["--batch-size", "0"], "--batch-size"),
        (["--batch-size", "-1"], "--batch-size"),
        (["--known-anomaly", "{normal}"], "content of a normal image"),
        (["--val-dir", "{copies}"], "content of a training image"),
        (["--out", "{normal}/model.keras"], "inside the input folder"),
        (["--method", "adaa"], "unknown method 'adaa'"),
        (["--out", "{tmp}/model.pkl"], "'.keras' file"),
        (["--method", "knn", "--out", "{tmp}/knn.keras"], "'.pkl' file"),
        (["--threshold", "f1"], "validation anomalies"),
        (["--method", "ada-semi"], "known anomaly"),
        (["--epochs", "0"], "epochs"),
        (["--target-fpr", "1.5"], "--target-fpr"),
        (["--color", "cmyk"], "--color"),
        (["--seed", "-1"], "seed"),
        (["--val-dir", "{tmp}", "--val-fraction", "0.2"], "not both"),
        (["--val-dir", "{tmp}/nowhere"], "does not exist"),
    ],
)
def test_fit_checks_every_option_before_training(
    rgb_folders: Path, tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "copy.png").write_bytes((rgb_folders / "normal" / "img_03.png").read_bytes())
    argv = [arg.format(tmp=tmp_path, normal=rgb_folders / "normal", copies=copies) for arg in argv]
    out = [] if "--out" in argv else ["--out", str(tmp_path / "model.keras")]
    start = time.perf_counter()
    assert _status(["fit", str(rgb_folders / "normal"), *out, *argv]) == 2
    assert message in _one_error_line(capsys)
    assert time.perf_counter() - start < 10 and not (tmp_path / "model.keras").exists()


def _status(argv: list[str]) -> int:
    """The exit status of the command line: returned by ``main`` or, for the parser's own errors, raised."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_fit_refuses_to_run_without_validation_images(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(1)
    _write(tmp_path / "few", [_stripes(rng, 32) for _ in range(3)])
    argv = ["fit", str(tmp_path / "few"), "--out", str(tmp_path / "m.keras"), "--image-size", "32"]
    assert _status(argv) == 2
    assert "leaves 0 for validation" in _one_error_line(capsys)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{tmp}/missing.keras", "{data}"], "no saved detector"),
        (["{model}", "{tmp}/nothing-here"], "no such file or folder"),
        (["{model}", "{empty}"], "holds no image file"),
        (["{model}", "{data}", "--threshold", "nan"], "--threshold: must be a finite number"),
        (["{model}", "{data}", "--out", "{tmp}"], "is a folder"),
        (["{ocsvm}", "{data}", "--maps", "{tmp}/maps"], "no maps"),
        (["{ocsvm}", "{data}", "--overlays", "{tmp}/overlays"], "no maps"),
        (["{model}", "{data}", "--out", "{model}"], "is also an input"),
        (["{model}", "{data}", "--out", "{data}/scores.csv"], "inside the input folder"),
        (["{model}", "{data}", "--maps", "{data}/maps"], "inside the input folder"),
        (["{model}", "{data}", "--overlays", "{data}/../normal/overlays"], "inside the input folder"),
    ],
)
def test_score_checks_its_arguments(
    rgb_folders: Path, tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    rng = np.random.default_rng(2)
    images = np.stack([_stripes(rng, 32) for _ in range(12)]).astype(np.float32)
    make_detector("knn").fit(images[:8], x_val=images[8:]).save(tmp_path / "knn.pkl")
    make_detector("ocsvm").fit(images[:8], x_val=images[8:]).save(tmp_path / "ocsvm.pkl")
    (tmp_path / "empty").mkdir()
    names = {"tmp": tmp_path, "data": rgb_folders / "normal", "model": tmp_path / "knn.pkl"}
    names |= {"empty": tmp_path / "empty", "ocsvm": tmp_path / "ocsvm.pkl"}
    assert _status(["score", *[arg.format(**names) for arg in argv]]) == 2
    assert message in _one_error_line(capsys)


def test_known_anomalies_validate_one_class_methods_and_train_supervised_ones(
    rgb_folders: Path, tmp_path: Path
) -> None:
    common = {
        "normal_dir": str(rgb_folders / "normal"),
        "image_size": 32,
        "known_anomaly_dir": str(rgb_folders / "anomalies"),
    }
    knn = fit_folder(
        FitConfig(out=str(tmp_path / "knn.pkl"), method="knn", threshold="recall", target_recall=0.5, **common)
    )
    assert (knn.n_known_train, knn.n_known_val) == (0, 4) and knn.n_train + knn.n_val == 16
    info = knn.detector.threshold_info_
    assert info["strategy"] == "recall" and info["n_anomalies"] == 4 and info["validation_recall"] >= 0.5
    assert (
        "target recall 0.5" in knn.summary()
        and load_detector(tmp_path / "knn.pkl").threshold_ == knn.detector.threshold_
    )
    cnn = fit_folder(FitConfig(out=str(tmp_path / "cnn.keras"), method="cnn-regression", epochs=1, verbose=0, **common))
    assert (cnn.n_known_train, cnn.n_known_val) == (3, 1)  # at least one of them validates
    assert cnn.detector.threshold_info_["n_anomalies"] == cnn.n_known_val
    ada = fit_folder(FitConfig(out=str(tmp_path / "ada.keras"), method="ada", epochs=1, verbose=0, **common))
    assert (ada.n_known_train, ada.n_known_val) == (0, 4)  # ada never trains on them: they choose its β
    validation = ada.detector.beta_validation_
    choice = ada.detector.beta_choice_
    assert ada.detector.beta in validation and choice["chosen"] == ada.detector.beta
    # 4 anomalies: too few to move beta from its default
    assert choice["current"] == 0.5 and ada.detector.beta == 0.5
    assert f"beta {ada.detector.beta:g} " in ada.summary() and "fewer than 10" in ada.summary()
    assert load_detector(tmp_path / "ada.keras").beta == ada.detector.beta  # the saved model scores with it


def test_a_validation_folder_of_its_own(rgb_folders: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    _write(tmp_path / "validation", [_stripes(rng, 32) for _ in range(5)])
    config = FitConfig(str(rgb_folders / "normal"), str(tmp_path / "knn.pkl"), method="knn", image_size=32)
    report = fit_folder(replace(config, val_dir=str(tmp_path / "validation")))
    assert (report.n_train, report.n_val) == (16, 5) and report.detector.threshold_info_["n_normal"] == 5
    assert "5 to validate from" in report.summary()
    with pytest.raises(ValueError, match="share 16 image"):
        fit_folder(replace(config, val_dir=str(rgb_folders)))


# -- thresholds as part of a detector ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blobs() -> dict[str, np.ndarray]:
    """Normal images are dark with a little noise; anomalies have a bright spot of random size."""
    rng = np.random.default_rng(0)

    def normal(n: int) -> np.ndarray:
        return rng.uniform(0, 0.2, (n, 8, 8, 1)).astype(np.float32)

    def anomalous(n: int) -> np.ndarray:
        images = normal(n)
        for image in images:
            side = rng.integers(1, 5)
            image[:side, :side] = 1.0
        return images

    return {"train": normal(200), "val": normal(100), "val_anomalies": anomalous(40), "test": anomalous(20)}


def test_fit_sets_a_threshold_on_validation_images_only(blobs: dict[str, np.ndarray]) -> None:
    detector = make_detector("knn").fit(blobs["train"], x_val=blobs["val"])
    val_scores = detector.score_samples(blobs["val"])
    assert detector.threshold_ == pytest.approx(np.quantile(val_scores, 0.95))
    assert detector.threshold_info_ | {"map_scale": None} == {
        "strategy": "fpr",
        "n_normal": 100,
        "normal_median": pytest.approx(float(np.median(val_scores))),
        "target_fpr": 0.05,
        "validation_fpr": 0.05,
        "validation_fpr_interval": [pytest.approx(v) for v in wilson_interval(5, 100)],
        "map_scale": None,
    }
    result = detector.predict(blobs["test"])
    np.testing.assert_array_equal(result.labels, (result.scores > detector.threshold_).astype(int))
    assert result.threshold == detector.threshold_
    overridden = detector.predict(blobs["test"], threshold=-1.0)
    assert overridden.labels.all() and overridden.threshold == -1.0
    with pytest.raises(ValueError, match="threshold must be a finite number"):
        detector.predict(blobs["test"], threshold=float("nan"))


def test_without_validation_images_there_is_no_threshold(blobs: dict[str, np.ndarray]) -> None:
    detector = make_detector("knn").fit(blobs["train"])
    assert detector.threshold_ is None and detector.threshold_info_ is None
    assert detector.predict(blobs["test"]).labels is None
    with pytest.raises(ValueError, match="does not invent one"):
        detector.fit_threshold(None)
    with pytest.raises(ValueError, match="needs labelled validation anomalies"):
        detector.fit_threshold(blobs["val"], strategy="f1")


def _f1(labels: np.ndarray, flagged: np.ndarray) -> float:
    true_positives = (flagged & (labels == 1)).sum()
    return 2 * true_positives / max(flagged.sum() + (labels == 1).sum(), 1)


def test_f1_and_recall_thresholds_use_labelled_validation_anomalies(blobs: dict[str, np.ndarray]) -> None:
    detector = make_detector("knn").fit(blobs["train"])
    normal, anomalous = detector.score_samples(blobs["val"]), detector.score_samples(blobs["val_anomalies"])
    scores, labels = np.r_[normal, anomalous], np.r_[np.zeros(100), np.ones(40)].astype(int)

    detector.fit_threshold(blobs["val"], blobs["val_anomalies"], strategy="f1")
    best = max(_f1(labels, scores >= t) for t in scores)
    assert _f1(labels, scores > detector.threshold_) == pytest.approx(best)
    assert detector.threshold_info_["n_anomalies"] == 40

    detector.fit_threshold(blobs["val"], blobs["val_anomalies"], strategy="recall", target_recall=0.75)
    recall = np.mean(anomalous > detector.threshold_)
    assert recall >= 0.75 and detector.threshold_info_["validation_recall"] == recall
    # the highest such threshold: moved up to the lowest flagged anomaly, it would miss the target
    assert np.mean(anomalous > np.min(anomalous[anomalous > detector.threshold_])) < 0.75


def test_thresholds_survive_saving_exactly(trained_ada, blobs, tmp_path: Path) -> None:
    assert trained_ada.threshold_ is not None and trained_ada.threshold_info_["n_normal"] == 64
    assert trained_ada.threshold_info_["map_scale"] > 0
    trained_ada.save(tmp_path / "ada.keras")
    loaded = load_detector(tmp_path / "ada.keras")
    assert loaded.threshold_ == trained_ada.threshold_ and loaded.threshold_info_ == trained_ada.threshold_info_
    knn = make_detector("knn").fit(blobs["train"], x_val=blobs["val"])
    knn.save(tmp_path / "knn.pkl")
    assert load_detector(tmp_path / "knn.pkl").threshold_ == knn.threshold_
    # a variant scores differently: it has no threshold until one is fitted for it
    assert trained_ada.variant("anovaegan").threshold_ is None


# -- sizes and colour ------------------------------------------------------------------------------------------


def test_28x28_networks_are_the_original_ones() -> None:
    shape = (28, 28, 1)
    assert extra_stages(shape) == 0
    assert build_encoder(shape).count_params() == 439040
    assert build_decoder(shape).count_params() == 76545
    discriminator = build_discriminator(shape, downsampling_layers=1)
    assert discriminator.count_params() == 93025 and discriminator.outputs[1].shape[1:3] == (14, 14)


@pytest.mark.parametrize(("side", "channels", "stages"), [(32, 3, 0), (64, 3, 1), (64, 1, 1), (128, 3, 2)])
def test_networks_grow_with_the_image(side: int, channels: int, stages: int) -> None:
    shape = (side, side, channels)
    assert check_network_shape(shape) == shape and extra_stages(shape) == stages
    assert build_encoder(shape).get_layer("flatten").input.shape[1:3] == (8, 8)  # the bottleneck stays small
    assert build_decoder(shape).outputs[0].shape[1:] == shape
    for downsampling in (0, 1, 2):  # counted on the 28x28 trunk: the extra stages are always strided
        features = build_discriminator(shape, downsampling_layers=downsampling).outputs[1]
        assert features.shape[1:3] == (side // 2 ** (downsampling + stages),) * 2


def test_sizes_the_networks_cannot_take_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="multiples of 16"):
        check_network_shape((100, 100, 3))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        check_network_shape((64, 64, 4))


def test_cam_from_given_features_equals_its_own_pass() -> None:
    from adda_keras.attention import attention_maps

    discriminator = build_discriminator((28, 28, 1), downsampling_layers=1)
    images = np.random.default_rng(0).uniform(0, 1, (4, 28, 28, 1)).astype(np.float32)
    _, features = discriminator(images, training=False)
    np.testing.assert_allclose(
        attention_maps(discriminator, images, features=features), attention_maps(discriminator, images), rtol=1e-6
    )


# -- reading files and folders -----------------------------------------------------------------------------------


def test_find_image_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    _write(tmp_path / "a", [_stripes(rng, 8) for _ in range(2)])
    _write(tmp_path / "a" / "deeper", [_stripes(rng, 8)])
    _write(tmp_path / "a" / ".hidden", [_stripes(rng, 8)])
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    found = find_image_files([tmp_path / "a"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/deeper/img_00.png",
        "a/img_00.png",
        "a/img_01.png",
    ]
    assert find_image_files(tmp_path / "a" / "img_01.png") == [tmp_path / "a" / "img_01.png"]
    assert load_image_files(found, (16, 16), "rgb").shape == (3, 16, 16, 3)
    with pytest.raises(ValueError, match="more than once"):
        find_image_files([tmp_path / "a", tmp_path / "a" / "img_00.png"])
    with pytest.raises(ValueError, match="not an image file"):
        find_image_files([tmp_path / "a" / "notes.txt"])


def test_texture_folders(tmp_path: Path) -> None:
    pytest.importorskip("skimage")
    from adda_keras.data.textures import write_texture_folders

    counts = write_texture_folders(tmp_path / "tex", n_train=6, n_val=3, n_test=8, size=32)
    assert counts == {
        "train/good": 6,
        "validation/good": 3,
        "test/good": 2,
        "test/patch": 2,
        "test/scratch": 2,
        "test/stain": 2,
    }
    for kind in ("patch", "scratch", "stain"):
        for image in (tmp_path / "tex" / "test" / kind).glob("*.png"):
            mask = np.asarray(Image.open(tmp_path / "tex" / "ground_truth" / kind / f"{image.stem}_mask.png"))
            assert mask.shape == (32, 32) and (mask == 255).sum() >= 3 and set(np.unique(mask)) <= {0, 255}
    with pytest.raises(ValueError, match="not empty"):
        write_texture_folders(tmp_path / "tex", n_train=6, n_test=8, size=32)
    again = write_texture_folders(tmp_path / "tex", n_train=4, n_test=4, size=32, overwrite=True)
    assert again["train/good"] == 4 and len(list((tmp_path / "tex" / "train" / "good").iterdir())) == 4
    # labelled validation defects: a folder of their own, every other folder byte for byte as without them
    with_defects = write_texture_folders(tmp_path / "tex2", n_train=4, n_test=4, size=32, n_val_defects=3)
    assert with_defects == {**again, "validation/defects": 3}
    for name in ("train/good", "validation/good", "test/good", "test/stain"):
        for image in (tmp_path / "tex" / name).glob("*.png"):
            assert image.read_bytes() == (tmp_path / "tex2" / name / image.name).read_bytes()
    with pytest.raises(ValueError, match="n_val_defects"):
        write_texture_folders(tmp_path / "tex3", n_val_defects=-1)
