"""Every registered method trains for real on tiny data, scores, maps and round-trips through a file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from adda_keras import available_detectors, load_detector, make_detector
from adda_keras.data import load_mnist, semi_supervised_split
from adda_keras.training import DivergenceGuard, TrainingDivergedError

FAST = {"epochs": 1, "batch_size": 32}
PARAMS = {
    "anovae": FAST,
    "anogan": {**FAST, "search_steps": 5},
    "anovaegan": FAST,
    "ada": FAST,
    "ada-d-only": FAST,
    "ada-cam-only": FAST,
    "ada-semi": FAST,
    "ada-cam-ano": FAST,
    "ada-synthetic": FAST,
    "ada-compare": FAST,
    "compare": FAST,
    "cnn-regression": FAST,
    "pca": {},
    "knn": {},
    "isolation-forest": {"n_estimators": 20},
    "ocsvm": {},
}
NO_MAPS = {"isolation-forest", "ocsvm"}


@pytest.fixture(scope="module")
def semi_split():
    mnist = load_mnist("bundled")
    return semi_supervised_split(
        mnist.images,
        mnist.labels,
        normal_class=0,
        known_anomaly_class=1,
        n_known=20,
        seed=0,
        max_test_anomalies_per_class=8,
    )


@pytest.fixture(scope="module")
def fitted(semi_split):
    """Every registered detector, fitted on 128 normal images (and 20 known anomalies).

    As in the library's tables, score variants share trained networks: ``ada-d-only`` and ``ada-cam-only`` are
    variants of the fitted ``ada`` (the same ``VAEGANDetector.fit`` that ``ada`` and ``anovaegan`` run for real),
    ``ada-cam-ano`` a variant of ``ada-semi``, ``compare`` of ``ada-compare`` (trained with the known anomalies),
    and the ensembles reuse ``ada``'s generator and ``D_G``.
    """
    x_train, x_val = semi_split.x_train[:128], semi_split.x_val[:32]
    known = {"x_known": semi_split.x_known, "x_val_known": semi_split.x_val_known}
    detectors = {"ada": make_detector("ada", **PARAMS["ada"]).fit(x_train, x_val)}
    for name in ("ada-d-only", "ada-cam-only"):
        detectors[name] = detectors["ada"].variant(name)
        detectors[name].fit_threshold(x_val)
    detectors["ada-semi"] = make_detector("ada-semi", **PARAMS["ada-semi"]).fit(
        x_train, x_val, self_supervised=detectors["ada"], **known
    )
    detectors["ada-cam-ano"] = detectors["ada-semi"].variant("ada-cam-ano")
    detectors["ada-cam-ano"].fit_threshold(x_val)
    detectors["ada-synthetic"] = make_detector("ada-synthetic", **PARAMS["ada-synthetic"]).fit(
        x_train, x_val, self_supervised=detectors["ada"]
    )
    detectors["ada-compare"] = make_detector("ada-compare", **PARAMS["ada-compare"]).fit(
        x_train, x_val, self_supervised=detectors["ada"], **known
    )
    detectors["compare"] = detectors["ada-compare"].variant("compare")
    detectors["compare"].fit_threshold(x_val)
    for name in available_detectors():
        if name not in detectors:
            uses_known = name == "cnn-regression"
            detectors[name] = make_detector(name, **PARAMS[name]).fit(x_train, x_val, **(known if uses_known else {}))
    return detectors


def test_every_registered_method_is_covered():
    assert set(available_detectors()) == set(PARAMS)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_scores_and_maps_have_the_right_shapes(fitted, semi_split, name):
    x = semi_split.x_test[:24]
    result = fitted[name].predict(x, batch_size=10)
    assert result.scores.shape == (24,) and np.isfinite(result.scores).all()
    if name in NO_MAPS:
        assert result.maps is None
        with pytest.raises(ValueError, match="no per-pixel anomaly maps"):
            fitted[name].anomaly_map(x)
    else:
        assert result.maps.shape == (24, 28, 28) and np.isfinite(result.maps).all()


def test_saved_detectors_score_the_same_in_a_fresh_process(fitted, semi_split, tmp_path):
    x = semi_split.x_test[:16]
    np.save(tmp_path / "x.npy", x)
    expected = {}
    for name, detector in fitted.items():
        suffix = ".pkl" if name in {"pca", "knn", "isolation-forest", "ocsvm"} else ".keras"
        detector.save(tmp_path / f"{name}{suffix}")
        expected[name] = detector.score_samples(x)
    script = textwrap.dedent(
        f"""
        import json, pathlib, numpy as np
        from adda_keras import load_detector
        folder = pathlib.Path({str(tmp_path)!r})
        x = np.load(folder / "x.npy")
        saved = [p for p in folder.iterdir() if p.suffix in (".keras", ".pkl")]
        out = {{p.stem: load_detector(p).score_samples(x).tolist() for p in saved}}
        print(json.dumps(out))
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    reloaded = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(reloaded) == set(expected)
    for name, scores in expected.items():
        np.testing.assert_allclose(reloaded[name], scores, rtol=1e-4, atol=1e-5, err_msg=name)


def test_load_in_this_process_keeps_settings(fitted, tmp_path):
    fitted["ada"].save(tmp_path / "ada.keras")
    loaded = load_detector(tmp_path / "ada.keras")
    assert loaded.method == "ada" and loaded.get_params() == fitted["ada"].get_params()
    assert loaded.beta_effective_ == pytest.approx(fitted["ada"].beta_effective_)


def test_saving_rejects_bad_paths(fitted, tmp_path):
    with pytest.raises(ValueError, match=r"'\.keras' file"):
        fitted["ada"].save(tmp_path / "ada.h5")
    with pytest.raises(ValueError, match=r"'\.pkl' file"):
        fitted["knn"].save(tmp_path / "knn.keras")
    with pytest.raises(FileNotFoundError, match="no saved detector"):
        load_detector(tmp_path / "missing.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError):
        load_detector(tmp_path / "junk.keras")


def test_semi_supervised_methods_need_known_anomalies(semi_split):
    for name in ("ada-semi", "ada-cam-ano", "cnn-regression"):
        with pytest.raises(ValueError, match="x_known"):
            make_detector(name, **FAST).fit(semi_split.x_train[:32])
    with pytest.raises(ValueError, match="takes no known anomalies"):
        make_detector("anovae", **FAST).fit(semi_split.x_train[:32], x_known=semi_split.x_known)


def test_known_anomaly_training_images_never_reach_the_test_split(semi_split):
    test = semi_split.x_test.reshape(len(semi_split.x_test), -1)
    for known in (semi_split.x_known, semi_split.x_val_known):
        flat = known.reshape(len(known), -1)
        assert not (flat[:, None, :] == test[None, :, :]).all(-1).any()


def test_semi_supervised_reuses_a_fitted_self_supervised_model(fitted, semi_split):
    semi = make_detector("ada-semi", **FAST).fit(
        semi_split.x_train[:128],
        semi_split.x_val[:32],
        semi_split.x_known,
        semi_split.x_val_known,
        self_supervised=fitted["ada"],
    )
    assert semi.model_g_ is fitted["ada"].model_
    assert semi.beta_selected_ in (0.0, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


def test_grad_cam_attention_scores(fitted, semi_split):
    detector = make_detector("ada", attention="grad-cam", **FAST).fit(semi_split.x_train[:64])
    assert np.isfinite(detector.score_samples(semi_split.x_test[:8])).all()


def test_one_seed_gives_equal_scores(semi_split):
    x = semi_split.x_test[:16]
    runs = [make_detector("ada", seed=3, **FAST).fit(semi_split.x_train[:96]).score_samples(x) for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_interrupted_training_resumes_from_its_checkpoint(semi_split, tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    params = {"epochs": 3, "batch_size": 32, "checkpoint_dir": str(tmp_path / "backup")}
    with pytest.raises(KeyboardInterrupt):
        make_detector("ada", **params).fit(semi_split.x_train[:64], callbacks=[Interrupt()])
    resumed = make_detector("ada", **params).fit(semi_split.x_train[:64])
    assert len(resumed.history_["loss_pixel"]) == 2  # epoch 0 was restored, epochs 1 and 2 ran


def test_divergence_guard_names_the_loss(semi_split):
    with pytest.raises(TrainingDivergedError, match="loss_prior"):
        DivergenceGuard().on_train_batch_end(3, {"loss_prior": float("nan"), "loss_pixel": 1.0})
    with pytest.raises(TrainingDivergedError, match="loss_pixel reached"):
        DivergenceGuard(limit=10).on_train_batch_end(0, {"loss_pixel": 11.0})
    from adda_keras.data import make_dataset
    from adda_keras.models import VAEGAN

    model = VAEGAN.build_default((28, 28, 1), kl_weight=float("inf"), seed=0)
    model.compile()
    with pytest.raises(TrainingDivergedError, match="training diverged"):
        model.fit(
            make_dataset(semi_split.x_train[:64], batch_size=32),
            epochs=2,
            verbose=0,
            callbacks=[DivergenceGuard()],
            shuffle=False,
        )


def test_mirrored_strategy_over_two_logical_cpus(tmp_path):
    script = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from adda_keras import make_detector
        from adda_keras.training import resolve_strategy
        assert resolve_strategy("mirrored").num_replicas_in_sync == 2
        try:  # regression: refused at construction, not at the first traced training step
            make_detector("ada", equilibrium=True, distribute="mirrored")
            raise AssertionError("equilibrium on two devices was accepted")
        except ValueError as error:
            assert "equilibrium" in str(error), error
        x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32) * 0.5
        detector = make_detector("ada", epochs=2, batch_size=16, distribute="mirrored").fit(x)
        scores = detector.score_samples(x[:8])
        assert np.isfinite(scores).all(), scores
        losses = detector.history_["loss_pixel"]
        print("ok", losses)
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1].startswith("ok")


def test_ada_synthetic_chooses_beta_by_the_shared_rule_and_says_so(fitted, semi_split) -> None:
    """Regression (issue 28, item 13): ``ada-synthetic`` moved β to the best AUROC of candidates all below chance,
    silently, and had no ``choose_beta``."""
    from adda_keras.experiments.own_images import describe_beta_choice

    detector = fitted["ada-synthetic"]
    assert detector.beta_choice_["on"] == "self-made anomalies of the validation images"
    assert any("self-made anomalies of the validation images" in line for line in describe_beta_choice(detector))
    below = {"validation": {0.0: 0.44, 0.5: 0.45, 5.0: 0.48}, "current": 0.5, "chosen": 5.0, "warnings": []}
    detector._record_beta_choice(below, "test images of a unit test")
    assert detector.beta_selected_ == 0.5 and "learned its own generator" in detector.beta_choice_["warnings"][-1]
    detector.choose_beta(semi_split.x_val[:32], semi_split.x_val_known)  # 4 labelled: kept, with a warning
    assert detector.beta_choice_["on"] == "the known anomalies" and detector.beta_selected_ == 0.5
    assert detector.beta_choice_["n_anomalies"] == len(semi_split.x_val_known)
