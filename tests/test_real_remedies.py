"""The remedies comparison reads validation images only, stores what it measures and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import studies.real_remedies as remedies
from adda_keras.experiments.real_images import make_real_config, photo_digit_images


def test_validation_images_are_the_units_own_and_hold_no_test_image() -> None:
    preset = make_real_config("photo-digits", "tiny").preset
    unit = photo_digit_images(preset, 0, 0, "grayscale")
    images = remedies.validation_images("photo-digits", "0", preset="tiny")
    assert not hasattr(images, "test")
    np.testing.assert_array_equal(images.x_train, unit.x_train)
    np.testing.assert_array_equal(images.val.images, unit.val.images)
    with pytest.raises(ValueError, match="benchmark must be"):
        remedies.validation_images("mnist", "0")


def test_feature_residual_maps_are_zero_for_a_perfect_reconstruction(trained_ada, tiny_split) -> None:
    images = tiny_split.x_val[:8]
    maps = remedies.feature_residual_maps(trained_ada, images)
    assert maps.shape == images.shape[:3] and (maps >= 0).all() and maps.max() > 0

    class Identity:
        discriminator = trained_ada.model_.discriminator

        def __call__(self, x, training=False):
            return x

    class Perfect:
        model_ = Identity()

    np.testing.assert_allclose(remedies.feature_residual_maps(Perfect(), images), 0.0, atol=1e-6)


def test_remedies_run_store_validation_numbers_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remedies, "TRAINED_VARIANTS", {"baseline": {}, "latent-32": {"latent_dim": 32}})
    monkeypatch.setattr(remedies, "SYNTHETIC_VARIANTS", {"synthetic-smooth": ("blur", "warp")})
    table = remedies.run_remedies(tmp_path, [("photo-digits", "0")], preset="tiny").read_text()
    stored = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "units").glob("*.json")}
    suffixes = {"baseline", "latent-32", "scores-baseline", "synthetic-smooth"}
    assert set(stored) == {f"photo-digits-0-seed0-{s}" for s in suffixes}
    assert "test" not in json.dumps(stored)
    assert stored["photo-digits-0-seed0-latent-32"]["settings"] == {"latent_dim": 32}
    scores = stored["photo-digits-0-seed0-scores-baseline"]["scores"]
    assert set(scores) >= {"ada", "feature-residual", "patch-knn", "ada-map-max-s2"}
    assert all(0 <= m["image_auroc"] <= 1 for m in scores.values())
    # the baseline's rescoring gives back the baseline's own validation AUROC
    assert scores["ada"]["image_auroc"] == stored["photo-digits-0-seed0-baseline"]["image_auroc"]
    assert "| ada-synthetic: blur+warp |" in table and "| train: latent_dim=32 |" in table

    def fail(*args, **kwargs):
        raise AssertionError("a stored variant was recomputed")

    monkeypatch.setattr(remedies, "make_detector", fail)
    remedies.run_remedies(tmp_path, [("photo-digits", "0")], preset="tiny")
    with pytest.raises(ValueError, match="variants must be among"):
        remedies.run_remedies(tmp_path, [("photo-digits", "0")], preset="tiny", variants=["bigger"])


def test_ada_synthetic_default_kinds_are_the_validation_winner() -> None:
    """The default self-made kinds are those that beat all five on the validation images of every compared unit."""
    from adda_keras.data.synthetic import PATCH_KINDS
    from adda_keras.detectors import make_detector

    assert make_detector("ada-synthetic").synthetic_kinds == PATCH_KINDS
    folder = Path(__file__).resolve().parents[1] / "results" / "real_images" / "remedies"
    records = remedies.load_remedy_records(folder)
    by_unit: dict[tuple[str, str], dict[str, float]] = {}
    for record in records:
        if record["kind"] == "synthetic":
            by_unit.setdefault((record["benchmark"], record["subject"]), {})[record_kinds(record)] = record[
                "image_auroc"
            ]
    assert len(by_unit) >= 4 and {b for b, _ in by_unit} == {"photo-digits", "textures"}
    for unit, aurocs in by_unit.items():
        assert aurocs["+".join(PATCH_KINDS)] > aurocs["cutpaste+scar+blend+blur+warp"], unit


def record_kinds(record: dict) -> str:
    return "+".join(record["synthetic_kinds"])
