"""Real-image benchmarks: bundled photographs and their splits, inspection defects, self-made anomalies, the runner."""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import adda_keras.data.synthetic as synthetic_module
from adda_keras.cli import main
from adda_keras.data.defects import NORMAL
from adda_keras.data.inspection import (
    HELD_OUT_TEXTURE,
    INSPECTION_DEFECTS,
    INSPECTION_REGIONS,
    INSPECTION_TEXTURES,
    add_inspection_defects,
    crop_positions,
    inspection_crops,
    shrunk_photo,
)
from adda_keras.data.photos import PHOTO_SPLITS, PHOTOS, digits_on_photos, load_photo, photo_crops
from adda_keras.data.synthetic import SYNTHETIC_KINDS, make_synthetic_anomalies
from adda_keras.detectors import load_detector, make_detector
from adda_keras.evaluation import images_for_fpr, wilson_interval
from adda_keras.experiments.real_images import (
    make_real_config,
    photo_digit_images,
    run_real_images,
    texture_images,
)


# -- photographs ----------------------------------------------------------------------------------------------------
def test_photo_splits_share_no_photograph_and_no_content() -> None:
    groups = list(PHOTO_SPLITS.values())
    names = [name for group in groups for name in group]
    assert len(names) == len(set(names)), "a photograph is in two groups"
    assert set(names) <= set(PHOTOS)
    # the same picture under two names (skimage's cat is chelsea) would break the split: compare contents
    digests = {}
    for name in names:
        digest = hashlib.sha1(np.ascontiguousarray(load_photo(name, "grayscale")).tobytes()).hexdigest()
        assert digest not in digests, f"{name} and {digests.get(digest)} are the same photograph"
        digests[digest] = name
    textures = {*INSPECTION_TEXTURES, HELD_OUT_TEXTURE}
    assert not textures & set(names), "a texture of the inspection benchmark is also a digit background"


@pytest.mark.parametrize("color, channels", [("grayscale", 1), ("rgb", 3)])
def test_load_photo_and_crops(color: str, channels: int) -> None:
    photo = load_photo("chelsea", color)
    assert photo.dtype == np.float32 and photo.shape[-1] == channels and 0 <= photo.min() and photo.max() <= 1
    crops = photo_crops(["camera", "chelsea"], 6, 20, seed=3, color=color)
    assert crops.shape == (6, 20, 20, channels) and crops.dtype == np.float32
    assert np.array_equal(crops, photo_crops(["camera", "chelsea"], 6, 20, seed=3, color=color))
    assert not np.array_equal(crops, photo_crops(["camera", "chelsea"], 6, 20, seed=4, color=color))
    assert crops.std(axis=(1, 2)).mean() > 0.01  # real clutter, not flat fills
    with pytest.raises(ValueError, match="photo must be one of"):
        load_photo("lena")
    with pytest.raises(ValueError, match="names must be"):
        photo_crops("camera", 2, 8, seed=0)
    with pytest.raises(ValueError, match="zoom"):
        photo_crops(["camera"], 2, 8, seed=0, zoom=(0.5, 0.2))


def test_digits_on_photos_composites_strokes_over_dimmed_backgrounds() -> None:
    digits = np.zeros((2, 4, 4, 1), np.float32)
    digits[:, 1, 1] = 1.0
    digits[:, 2, 2] = 0.5
    backgrounds = np.full((2, 4, 4, 3), 0.8, np.float32)
    out = digits_on_photos(digits, backgrounds, background_level=0.5)
    assert out.shape == (2, 4, 4, 3)
    np.testing.assert_allclose(out[:, 0, 0], 0.4)  # background dimmed
    np.testing.assert_allclose(out[:, 1, 1], 1.0)  # opaque stroke
    np.testing.assert_allclose(out[:, 2, 2], 0.5 * 0.4 + 0.5)  # half-opaque stroke
    with pytest.raises(ValueError, match="backgrounds must match"):
        digits_on_photos(digits, backgrounds[:1])
    with pytest.raises(ValueError, match="one channel"):
        digits_on_photos(backgrounds, backgrounds)


def test_photo_digit_images_use_each_photograph_group_for_its_split() -> None:
    preset = make_real_config("photo-digits", "tiny").preset
    images = photo_digit_images(preset, 3, seed=0, color="rgb")
    assert images.x_train.shape[1:] == (28, 28, 3)
    assert set(images.test.kinds.tolist()) - {NORMAL} <= {f"digit {d}" for d in range(10) if d != 3}
    assert (images.test.labels == 1).sum() == 9 * preset.max_test_anomalies_per_class
    # every background pixel of a test image comes from a test photograph: recompute the composite
    again = photo_digit_images(preset, 3, seed=0, color="rgb")
    assert np.array_equal(images.test.images, again.test.images)


# -- texture inspection ---------------------------------------------------------------------------------------------
def test_inspection_rectangles_are_disjoint_and_crops_stay_inside() -> None:
    boxes = {}
    for split, ((top, bottom), (left, right)) in INSPECTION_REGIONS.items():
        boxes[split] = (top, bottom, left, right)
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ta, ba, la, ra = boxes[a]
            tb, bb, lb, rb = boxes[b]
            assert ba <= tb or bb <= ta or ra <= lb or rb <= la, f"{a} and {b} overlap"
    photo = shrunk_photo("brick")
    height, width = photo.shape
    for split, (top, bottom, left, right) in boxes.items():
        tops, lefts = crop_positions(photo.shape, split, 200, seed=1, size=64)
        assert tops.min() >= int(top * height) and tops.max() + 64 <= int(bottom * height)
        assert lefts.min() >= int(left * width) and lefts.max() + 64 <= int(right * width)
        crops = inspection_crops("brick", split, 3, seed=1)
        for crop, t, x in zip(crops, *crop_positions(photo.shape, split, 3, seed=1, size=64), strict=True):
            np.testing.assert_array_equal(crop[..., 0], photo[t : t + 64, x : x + 64])


def test_inspection_defects_masks_align_with_changed_pixels() -> None:
    crops = inspection_crops("gravel", "test", 40, seed=2)
    defects = add_inspection_defects(crops, seed=5)
    normal = defects.kinds == NORMAL
    assert normal.sum() == 10 and set(defects.kinds[~normal]) == set(INSPECTION_DEFECTS)
    assert np.array_equal(defects.images[normal], crops[normal]) and not defects.masks[normal].any()
    changed = np.abs(defects.images - crops)[..., 0]
    for index in np.flatnonzero(~normal):
        mask = defects.masks[index]
        assert mask.sum() >= 8
        if defects.kinds[index] not in ("foreign", "missing"):
            assert changed[index][mask].min() > 0.04  # every masked pixel visibly changed
        # little change outside the (dilated) defect: the mask is where the defect is
        from scipy import ndimage

        outside = ~ndimage.binary_dilation(mask, iterations=3)
        assert changed[index][outside].mean() < 0.02
    again = add_inspection_defects(crops, seed=5)
    assert np.array_equal(again.images, defects.images) and np.array_equal(again.masks, defects.masks)
    with pytest.raises(ValueError, match="kinds"):
        add_inspection_defects(crops, seed=0, kinds=("dent",))


# -- self-made anomalies --------------------------------------------------------------------------------------------
def test_synthetic_anomalies_make_every_kind_from_the_given_images() -> None:
    images = inspection_crops("grass", "train", 20, seed=0)
    made, kinds = make_synthetic_anomalies(images, seed=1, n=50)
    assert made.shape == (50, *images.shape[1:]) and made.dtype == np.float32
    assert 0 <= made.min() and made.max() <= 1
    counts = {kind: int((kinds == kind).sum()) for kind in SYNTHETIC_KINDS}
    assert set(counts.values()) == {10}
    # every anomaly differs from every normal image, by a local change (most pixels kept from one of them)
    distance = np.abs(made[:, None] - images[None]).mean(axis=(2, 3, 4))
    assert distance.min() > 0.001
    kept = (np.abs(made[:, None] - images[None]) < 1e-6).mean(axis=(2, 3, 4)).max(axis=1)
    assert np.median(kept) > 0.5
    made_again, _ = make_synthetic_anomalies(images, seed=1, n=50)
    assert np.array_equal(made, made_again)
    with pytest.raises(ValueError, match="at least 2"):
        make_synthetic_anomalies(images[:1], seed=0)
    with pytest.raises(ValueError, match="kinds"):
        make_synthetic_anomalies(images, seed=0, kinds=("scratch",))


def test_synthetic_generator_shares_no_code_with_the_evaluation_defects() -> None:
    tree = ast.parse(inspect.getsource(synthetic_module))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module is not None}
    assert not imported & {"adda_keras.data.inspection", "adda_keras.data.defects", "adda_keras.data.noise"}
    assert not set(SYNTHETIC_KINDS) & set(INSPECTION_DEFECTS)


# -- ada-synthetic --------------------------------------------------------------------------------------------------
def test_ada_synthetic_trains_chooses_beta_and_saves_exactly(tmp_path: Path) -> None:
    x_train = inspection_crops("brick", "train", 48, seed=0, size=32)
    x_val = inspection_crops("brick", "validation", 20, seed=1, size=32)
    detector = make_detector("ada-synthetic", epochs=1, batch_size=16, seed=0).fit(x_train, x_val)
    assert detector.beta_selected_ in detector.beta_validation_
    choice = detector.beta_choice_  # choose_beta's rule: the default stays unless the best gains past 2 errors
    assert detector.beta_selected_ == choice["chosen"] in (0.5, choice["best"])
    if choice["chosen"] != 0.5:
        assert choice["gain"] > choice["switch_se"] * choice["gain_se"]
    assert detector.threshold_ is not None
    test = add_inspection_defects(inspection_crops("brick", "test", 12, seed=2, size=32), seed=0).images
    result = detector.predict(test)
    assert result.scores.shape == (12,) and result.maps.shape == (12, 32, 32)
    path = tmp_path / "synthetic.keras"
    detector.save(path)
    loaded = load_detector(path)
    assert loaded.method == "ada-synthetic" and loaded.beta_selected_ == detector.beta_selected_
    np.testing.assert_allclose(loaded.score_samples(test), result.scores, rtol=1e-5, atol=1e-6)
    fixed = make_detector("ada-synthetic", epochs=1, batch_size=16, seed=0, beta=0.0)
    assert fixed.get_params()["beta"] == 0.0 and not fixed.auto_beta
    with pytest.raises(ValueError, match="makes its own anomalies"):
        fixed.fit(x_train, x_val, x_known=x_val)
    with pytest.raises(ValueError, match="beta must be 'auto'"):
        make_detector("ada-synthetic", beta="best")
    with pytest.raises(ValueError, match="synthetic_kinds"):
        make_detector("ada-synthetic", synthetic_kinds=("stain",))


# -- the runner -----------------------------------------------------------------------------------------------------
def test_wilson_interval() -> None:
    low, high = wilson_interval(2, 40)
    assert 0 < low < 0.05 < high < 0.2
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 100)[0] == 0.0
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 4)
    n = images_for_fpr(0.05)
    low, high = wilson_interval(round(0.05 * n), n)
    assert 0.025 <= low and high <= 0.1
    assert (
        wilson_interval(round(0.05 * (n - 1)), n - 1)[1] > 0.1
        or wilson_interval(round(0.05 * (n - 1)), n - 1)[0] < 0.025
    )


def test_threshold_records_its_uncertainty_and_warns_when_too_few(trained_ada, tiny_split, caplog) -> None:
    detector = trained_ada.variant("anovaegan")
    with caplog.at_level("WARNING"):
        detector.fit_threshold(tiny_split.x_val[:60])
    low, high = detector.threshold_info_["validation_fpr_interval"]
    assert low <= detector.threshold_info_["validation_fpr"] <= high and high - low > 0.05
    assert "within a factor of two" in caplog.text


def test_texture_images_keep_test_crops_apart() -> None:
    preset = make_real_config("textures", "tiny").preset
    images = texture_images(preset, "brick", seed=0)
    assert images.x_train.shape == (48, 64, 64, 1)
    assert not np.isin(
        images.test.images[images.test.labels == 0].sum(axis=(1, 2, 3)), images.x_train.sum(axis=(1, 2, 3))
    ).any()


def test_tiny_texture_benchmark_runs_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_real_config("textures", "tiny", output_dir=str(tmp_path))
    rows = run_real_images(config, progress=False)
    folder = config.folder
    table = (folder / "table.md").read_text()
    assert "Texture inspection" in table and "(held out)" not in table
    assert {r["method"] for r in rows} == set(config.methods)
    assert {r["split"] for r in rows} == {"val", "test"}
    record = json.loads((folder / "units" / "brick-seed0.json").read_text())
    assert 0 <= record["methods"]["ada"]["fpr"]["test_fpr"] <= 1
    beliefs = record["methods"]["ada"]["beliefs"]["D_G"]  # what D_G learned, kept in every unit (issue 26)
    assert set(beliefs) == {"train_vs_val", "val_vs_known"} and all(0 <= v <= 1 for v in beliefs.values())
    assert set(record["methods"]["patch-knn"]["test_maps"]) >= {"all", *INSPECTION_DEFECTS}

    def fail(*args, **kwargs):
        raise AssertionError("a finished unit was recomputed")

    monkeypatch.setattr("adda_keras.experiments.real_images.run_unit", fail)
    assert run_real_images(config, progress=False) == rows


def test_reproduce_benchmark_options_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "--benchmark", "textures", "--preset", "paper"]) == 2
    assert "preset must be one of" in capsys.readouterr().err
    assert main(["reproduce", "--benchmark", "textures", "--color", "rgb"]) == 2
    assert "grayscale" in capsys.readouterr().err
    assert main(["reproduce", "--benchmark", "photo-digits", "--digits", "1"]) == 2
    assert "--digits" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "--benchmark", "textures", "--table", "1"])


def test_a_unit_fingerprint_holds_only_its_own_benchmark_settings() -> None:
    # regression: the texture preset's fields were part of every digit unit's fingerprint, so changing the texture
    # preset would have recomputed every finished digit unit
    from dataclasses import replace

    from adda_keras.experiments.real_images import unit_fingerprint

    digits = make_real_config("photo-digits", "quick")
    changed = replace(digits, preset=replace(digits.preset, texture_crops=(1, 1, 1), texture_epochs=1))
    assert unit_fingerprint(digits, "3", 0) == unit_fingerprint(changed, "3", 0)
    fewer_epochs = replace(digits, preset=replace(digits.preset, epochs=1))
    assert unit_fingerprint(digits, "3", 0) != unit_fingerprint(fewer_epochs, "3", 0)
