"""The compared maps (patch-kNN, Grad-CAM, ADA's parts), smoothing, and the tiny ``localise`` run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adda_keras.cli import main
from adda_keras.data.defects import DefectSet
from adda_keras.experiments.localise import MAP_METHODS, make_localise_config, run_localisation
from adda_keras.localisation import PatchKNN, evaluate_maps, not_normal_grad_cam, smooth_maps, vaegan_maps


def test_smoothing_keeps_flat_maps_and_spreads_a_peak() -> None:
    flat = np.full((2, 9, 9), 0.7, np.float32)
    assert np.allclose(smooth_maps(flat, 1.5), 0.7)
    peak = np.zeros((1, 9, 9), np.float32)
    peak[0, 4, 4] = 1.0
    smoothed = smooth_maps(peak, 1.0)
    assert smoothed[0, 4, 4] < 1.0 and smoothed[0, 4, 4] == smoothed.max()
    assert np.allclose(smoothed[0], smoothed[0].T) and smoothed.sum() == pytest.approx(1.0, abs=1e-4)
    assert np.array_equal(smooth_maps(peak, 0), peak)
    with pytest.raises(ValueError, match="sigma"):
        smooth_maps(peak, -1)


@pytest.mark.parametrize("radius", [1, None])
def test_patch_knn_finds_what_no_training_patch_has(radius) -> None:
    train = np.zeros((3, 12, 12, 1), np.float32)
    knn = PatchKNN(patch_size=3, radius=radius).fit(train)
    image = np.zeros((1, 12, 12, 1), np.float32)
    image[0, 6, 6] = 1.0
    maps = knn.anomaly_map(image)
    assert maps.shape == (1, 12, 12)
    assert maps[0, 6, 6] == pytest.approx(1.0) and maps[0, 6, 6] == maps.max()
    assert maps[0, :4].max() == 0 and maps[0, 9:].max() == 0  # patches far from it match the training ones
    assert np.allclose(knn.anomaly_map(train[:1]), 0.0)


def test_patch_knn_radius_is_positional() -> None:
    # normal images have a bright pixel at the left: at the right it is an anomaly only for a positional kNN
    train = np.zeros((2, 10, 10, 1), np.float32)
    train[:, 5, 1] = 1.0
    image = np.zeros((1, 10, 10, 1), np.float32)
    image[0, 5, 8] = 1.0
    assert PatchKNN(patch_size=3, radius=1).fit(train).anomaly_map(image)[0, 5, 8] > 0.5
    assert PatchKNN(patch_size=3, radius=None).fit(train).anomaly_map(image)[0, 5, 8] == pytest.approx(0, abs=1e-3)


def test_patch_knn_errors() -> None:
    with pytest.raises(ValueError, match="odd"):
        PatchKNN(patch_size=4)
    with pytest.raises(RuntimeError, match="not fitted"):
        PatchKNN().anomaly_map(np.zeros((1, 8, 8, 1), np.float32))
    with pytest.raises(ValueError, match="images must have shape"):
        PatchKNN().fit(np.zeros((1, 8, 8, 1), np.float32)).anomaly_map(np.zeros((1, 6, 6, 1), np.float32))


@settings(max_examples=20, deadline=None)
@given(arrays(np.float32, (2, 6, 6, 1), elements=st.floats(0, 1, width=32)), st.sampled_from([0, 1, None]))
def test_patch_knn_of_a_training_image_is_zero(train, radius) -> None:
    maps = PatchKNN(patch_size=3, radius=radius).fit(train).anomaly_map(train)
    # float32 |q|² + |b|² - 2 q·b cancels to ~1e-6 for bright patches; its square root is ~1e-3
    assert np.allclose(maps, 0.0, atol=1e-2)


def test_vaegan_maps_are_the_detectors_own(trained_ada, tiny_split) -> None:
    images = tiny_split.x_test[:12]
    reference = tiny_split.x_val[:64]
    maps = vaegan_maps(trained_ada, images, floors=[0.5, 2.0], x_reference=reference)
    assert set(maps) == {"ada", "residual", "attention", "grad-cam", "ada-floor=0.5", "ada-floor=2"}
    paper = trained_ada.variant(attention_floor=0.0, x_reference=reference)
    assert np.allclose(maps["ada"][0], paper.anomaly_map(images), atol=1e-6)
    parts = paper.explain(images)
    residual = np.mean((images - parts["reconstruction"]) ** 2, axis=-1)
    assert np.allclose(maps["residual"][0], residual, atol=1e-6)
    assert np.allclose(maps["attention"][0], parts["attention"])
    floored = trained_ada.variant(attention_floor=0.5)
    assert np.allclose(maps["ada-floor=0.5"][1], floored.score_samples(images), atol=1e-6)
    # regression: every floor's image score uses β in its own units (re-measured on the reference images)
    wide = trained_ada.variant(attention_floor=2.0, x_reference=reference)
    assert np.allclose(maps["ada-floor=2"][1], wide.score_samples(images), atol=1e-6)
    assert maps["ada"][1] == pytest.approx(paper.score_samples(images), abs=1e-6)
    grad = not_normal_grad_cam(trained_ada.model_.discriminator, images)
    assert grad.shape == images.shape[:3] and 0 <= grad.min() and grad.max() <= 1 + 1e-6


def test_evaluate_maps_per_kind() -> None:
    masks = np.zeros((4, 5, 5), bool)
    masks[1, 1:3, 1:3] = True
    masks[2, 4, 4] = True
    defects = DefectSet(np.zeros((4, 5, 5, 1), np.float32), masks, np.array(["normal", "a", "b", "normal"]))
    perfect = evaluate_maps(defects, masks.astype(float), None, ["a", "b"])
    assert set(perfect) == {"a", "b", "all"}
    assert all(v == pytest.approx(1.0) for metrics in perfect.values() for v in metrics.values())


def test_tiny_digits_benchmark_from_the_command_line(tmp_path, capsys) -> None:
    output = tmp_path / "localisation"
    assert main(["localise", "--benchmark", "digits", "--preset", "tiny", "--output", str(output)]) == 0
    folder = output / "tiny" / "digits"
    table = (folder / "table.md").read_text()
    assert "## Targets" in table and "AUPRO" in table and "background" in table
    assert f"--output {output}" in table
    rows = (folder / "runs.csv").read_text().splitlines()
    # 2 units (clean, noisy) x 6 methods x 2 smoothings x 5 kinds (4 + all)
    assert len(rows) == 1 + 2 * len(MAP_METHODS) * 2 * 5
    assert "validation_aupro" in (folder / "selection.csv").read_text()
    assert (folder / "maps_0-noisy-seed0.png").stat().st_size > 5000
    unit = folder / "units" / "0-noisy-seed0.json"
    stamp = unit.stat().st_mtime_ns
    assert "results written to" in capsys.readouterr().out
    # a rerun with the same settings reuses the finished units
    run_localisation(make_localise_config("digits", "tiny", str(output)), progress=False)
    assert unit.stat().st_mtime_ns == stamp
    assert json.loads(unit.read_text())["chosen"]["attention_floor"] > 0


def test_tiny_textures_benchmark(tmp_path) -> None:
    rows = run_localisation(make_localise_config("textures", "tiny", str(tmp_path)), progress=False)
    assert {row["kind"] for row in rows} == {"scratch", "stain", "patch", "all"}
    assert all(0 <= row["aupro"] <= 1 and 0 <= row["pixel_auroc"] <= 1 for row in rows)


def test_localise_rejects_bad_options(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["localise", "--benchmark", "carpets"])
    with pytest.raises(ValueError, match="benchmark"):
        make_localise_config("carpets")
    with pytest.raises(ValueError, match="preset"):
        make_localise_config("digits", "paper")
