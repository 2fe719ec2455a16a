"""``ada-compare``: the foreign-patch generator, the comparing discriminator, its detector, beliefs and CLI."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from adda_keras import load_detector, make_detector
from adda_keras.cli import main
from adda_keras.data import foreign
from adda_keras.data.foreign import MASK_CHANGE, make_foreign_patches
from adda_keras.diagnostics import BELIEF_COMPARISONS, belief_aurocs, discriminator_beliefs
from adda_keras.evaluation import auroc
from adda_keras.models.compare import build_comparator, focal_loss


def _smooth_images(n: int, side: int = 16, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Normal images: one smooth bright blob on a dark, slightly noisy background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    images = np.empty((n, side, side, channels), np.float32)
    for i in range(n):
        cy, cx = rng.uniform(0.35, 0.65, 2) * side
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (side / 6) ** 2))
        images[i] = np.clip(0.8 * blob[..., None] + rng.uniform(0, 0.1, (side, side, channels)), 0, 1)
    return images


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), side=st.sampled_from([16, 28, 32]), channels=st.sampled_from([1, 3]))
def test_foreign_patches_change_exactly_their_masks(seed: int, side: int, channels: int) -> None:
    images = np.random.default_rng(seed).uniform(0, 1, (6, side, side, channels)).astype(np.float32)
    anomalies, masks = make_foreign_patches(images, seed, n=9)
    assert anomalies.shape == (9, side, side, channels) and masks.shape == (9, side, side)
    assert set(np.unique(masks)) <= {0.0, 1.0} and anomalies.min() >= 0 and anomalies.max() <= 1
    order = np.random.default_rng(seed).permutation(np.arange(9) % 6)
    change = np.abs(anomalies - images[order]).mean(axis=-1)
    np.testing.assert_array_equal(masks, change > MASK_CHANGE)  # the mask is where the image changed, exactly
    assert masks.sum(axis=(1, 2)).min() >= foreign.MIN_MASK_PIXELS
    assert masks.mean() < 0.35  # local: most of every image stays as it was
    again, again_masks = make_foreign_patches(images, seed, n=9)
    np.testing.assert_array_equal(again, anomalies)
    np.testing.assert_array_equal(again_masks, masks)


def test_foreign_patches_share_no_code_with_the_evaluation_defects_and_refuse_bad_input() -> None:
    tree = ast.parse(inspect.getsource(foreign))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {m for m in imported if m and m.split(".")[-1] in {"defects", "inspection", "synthetic", "noise"}}
    with pytest.raises(ValueError, match="at least 2 images"):
        make_foreign_patches(np.zeros((1, 8, 8, 1), np.float32), 0)


def test_focal_loss_is_cross_entropy_weighted_by_the_miss() -> None:
    import tensorflow as tf

    logits = tf.constant([[[[2.0], [-1.0]]]])
    targets = tf.constant([[[[1.0], [1.0]]]])
    p = 1 / (1 + np.exp(-np.array([2.0, -1.0])))
    expected = np.mean((1 - p) ** 2 * -np.log(p))
    assert float(focal_loss(targets, logits)[0]) == pytest.approx(expected, rel=1e-5)


def test_comparator_sees_the_pair_and_pools_a_window() -> None:
    network = build_comparator((28, 28, 3))
    assert [tuple(t.shape[1:]) for t in network.inputs] == [(28, 28, 3), (28, 28, 3)]
    assert [tuple(t.shape[1:]) for t in network.outputs] == [(1,), (28, 28, 1)]
    assert network.get_layer("window_mean").pool_size == (4, 4)


@pytest.fixture(scope="module")
def fitted() -> dict:
    """``ada-compare`` trained for real on 16x16 blob images, with and without labelled anomalies."""
    x_train, x_val = _smooth_images(96, seed=0), _smooth_images(40, seed=1)
    known = _smooth_images(24, seed=2)
    known[:, 2:6, 2:6] = 1.0  # a bright square in a corner: the known anomaly
    ada = make_detector("ada", epochs=2, batch_size=16, seed=0).fit(x_train, x_val)
    params = {"epochs": 2, "batch_size": 16, "seed": 0, "comparator_epochs": 8}
    plain = make_detector("ada-compare", **params).fit(x_train, x_val, self_supervised=ada)
    labelled = make_detector("ada-compare", **params).fit(
        x_train, x_val, x_known=known[:12], x_val_known=known[12:], self_supervised=ada
    )
    return {"ada": ada, "plain": plain, "labelled": labelled, "x_train": x_train, "x_val": x_val, "known": known}


def test_the_comparator_learns_its_anomalies_and_the_labelled_kind(fitted) -> None:
    x_val, known = fitted["x_val"], fitted["known"]
    made, _ = make_foreign_patches(x_val, 123)
    alone = fitted["plain"].variant("compare")
    labels = np.r_[np.zeros(len(x_val)), np.ones(len(made))]
    assert auroc(labels, alone.score_samples(np.concatenate([x_val, made]))) > 0.75  # held-out self-made
    taught = fitted["labelled"].variant("compare")
    labels = np.r_[np.zeros(len(x_val)), np.ones(12)]
    assert auroc(labels, taught.score_samples(np.concatenate([x_val, known[12:]]))) > 0.9  # held-out labelled
    assert (
        fitted["labelled"].history_["comparator_loss_known"][-1]
        < fitted["labelled"].history_["comparator_loss_known"][0]
    )
    assert "comparator_loss_known" in fitted["plain"].history_  # recorded as 0 without labelled anomalies
    assert fitted["plain"].history_["comparator_loss_known"] == [0.0] * 8


def test_ada_compare_is_ada_plus_the_comparator(fitted) -> None:
    """The score is ADA's formula on the joined terms: attention + 2 m, D_G + the comparator's belief."""
    detector, ada = fitted["plain"], fitted["ada"]
    images = fitted["x_val"][:10]
    parts, base = detector.explain(images), ada.explain(images)
    np.testing.assert_allclose(parts["attention"], base["attention"] + 2 * parts["comparator_map"], atol=1e-6)
    belief = 1 / (1 + np.exp(parts["comparator_logit"]))
    np.testing.assert_allclose(parts["normal_probability"], base["normal_probability"] + belief, atol=1e-6)
    expected = parts["weighted_residual"] - detector.beta_effective_ * parts["normal_probability"]
    np.testing.assert_allclose(detector.score_samples(images), expected, atol=1e-6)
    np.testing.assert_allclose(detector.variant("compare").score_samples(images), parts["comparator_logit"], atol=1e-6)


def test_beliefs_report_the_aurocs_of_the_stored_beliefs(fitted) -> None:
    detector, x_train, x_val, known = fitted["labelled"], fitted["x_train"], fitted["x_val"], fitted["known"][12:]
    made, _ = make_foreign_patches(x_val, 5)
    report = belief_aurocs(detector, x_train, x_val, known, made)
    assert set(report) == {"D_G", "comparator"} and all(set(v) == set(BELIEF_COMPARISONS) for v in report.values())
    beliefs = {name: discriminator_beliefs(detector, images) for name, images in (("t", x_train), ("v", x_val))}
    beliefs["k"], beliefs["m"] = discriminator_beliefs(detector, known), discriminator_beliefs(detector, made)
    for network in report:
        for comparison, (a, b) in {"train_vs_val": "tv", "val_vs_known": "vk", "val_vs_made": "vm"}.items():
            first, second = beliefs[a][network], beliefs[b][network]
            labels = np.r_[np.zeros(len(first)), np.ones(len(second))]
            assert report[network][comparison] == pytest.approx(auroc(labels, -np.r_[first, second]))
    semi_like = belief_aurocs(fitted["ada"], x_train, x_val)
    assert set(semi_like) == {"D_G"} and set(semi_like["D_G"]) == {"train_vs_val"}


def test_saved_and_exported_ada_compare_score_exactly(fitted, tmp_path: Path) -> None:
    from adda_keras.detectors.export import export_detector

    detector = fitted["labelled"]
    images = fitted["x_val"][:12]
    detector.save(tmp_path / "c.keras")
    loaded = load_detector(tmp_path / "c.keras")
    np.testing.assert_array_equal(loaded.score_samples(images), detector.score_samples(images))
    assert loaded.beta_selected_ == detector.beta_selected_ and loaded.get_params() == detector.get_params()
    export_detector(detector, tmp_path / "served")
    np.save(tmp_path / "x.npy", images)
    script = (
        "import json, numpy as np, tensorflow as tf, sys\n"
        f"serve = tf.saved_model.load({str(tmp_path / 'served')!r}).signatures['serving_default']\n"
        f"out = serve(images=tf.constant(np.load({str(tmp_path / 'x.npy')!r})))\n"
        "assert 'adda_keras' not in sys.modules\n"
        "print(json.dumps(out['score'].numpy().tolist()))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd="/")
    assert run.returncode == 0, run.stderr[-2000:]
    served = json.loads(run.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(served, detector.score_samples(images), atol=1e-5, rtol=0)


def _write(folder: Path, images: np.ndarray) -> None:
    folder.mkdir(parents=True)
    for index, image in enumerate(images):
        Image.fromarray(np.round(image[..., 0] * 255).astype(np.uint8)).save(folder / f"i{index:02d}.png")


def test_fit_from_the_command_line_with_and_without_known_anomalies(tmp_path: Path, capsys) -> None:
    _write(tmp_path / "train", _smooth_images(40, seed=3))
    known = _smooth_images(12, seed=4)
    known[:, 2:6, 2:6] = 1.0
    _write(tmp_path / "known", known)
    argv = ["fit", str(tmp_path / "train"), "--method", "ada-compare", "--epochs", "1", "--batch-size", "8"]
    assert main(["-v", *argv, "--out", str(tmp_path / "plain.keras")]) == 0
    printed = capsys.readouterr().out
    assert "belief AUROC of comparator: training vs validation normals" in printed
    assert main([*argv, "--known-anomaly", str(tmp_path / "known"), "--out", str(tmp_path / "taught.keras")]) == 0
    printed = capsys.readouterr().out
    assert "known anomalies from" in printed and "belief AUROC" not in printed
    taught = load_detector(tmp_path / "taught.keras")
    assert taught.method == "ada-compare" and taught.beta_selected_ is not None
