"""Detectors trained for real on tiny data: losses fall, scores are finite, bad input is refused."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest

from adda_keras import available_detectors, load_detector, make_detector
from adda_keras.evaluation import auroc
from adda_keras.models import VAEGAN


def test_vaegan_reconstruction_loss_falls(tiny_split):
    import keras

    from adda_keras.data import make_dataset

    keras.utils.set_random_seed(0)
    model = VAEGAN.build_default((28, 28, 1), seed=0)
    model.compile(learning_rate=5e-4)
    history = model.fit(
        make_dataset(tiny_split.x_train[:256], batch_size=32), epochs=4, verbose=0, shuffle=False
    ).history
    assert history["loss_pixel"][-1] < 0.8 * history["loss_pixel"][0]
    assert all(np.isfinite(v).all() for v in history.values())


@pytest.mark.parametrize("method", ["ada", "anovaegan", "ada-cam-only", "ada-d-only"])
def test_scores_and_maps(trained_ada, tiny_split, method):
    detector = trained_ada if method == "ada" else trained_ada.variant(method)
    x = tiny_split.x_test[:50]
    result = detector.predict(x, batch_size=16)
    assert result.scores.shape == (50,) and result.maps.shape == (50, 28, 28)
    assert np.isfinite(result.scores).all() and np.isfinite(result.maps).all()
    np.testing.assert_allclose(detector.score_samples(x), result.scores, rtol=1e-5, atol=1e-6)
    # cut into batches or not, the compiled pass gives the same scores
    np.testing.assert_allclose(detector.score_samples(x, batch_size=50), result.scores, rtol=1e-4, atol=1e-6)


def test_ada_map_mean_is_the_attention_term(trained_ada, tiny_split):
    x = tiny_split.x_test[:20]
    cam_only = trained_ada.variant("ada-cam-only").predict(x)
    np.testing.assert_allclose(cam_only.maps.mean(axis=(1, 2)), cam_only.scores, rtol=1e-4, atol=1e-7)
    parts = trained_ada.explain(x)
    expected = parts["weighted_residual"] - trained_ada.beta_effective_ * parts["normal_probability"]
    np.testing.assert_allclose(trained_ada.score_samples(x), expected, rtol=1e-4, atol=1e-6)


def test_registry_and_unknown_names():
    assert {"ada", "anovaegan", "ada-cam-only", "ada-d-only"} <= set(available_detectors())
    with pytest.raises(ValueError, match="unknown detector 'adaa'"):
        make_detector("adaa")
    with pytest.raises(ValueError, match="attention method"):
        make_detector("ada", attention="saliency")
    with pytest.raises(ValueError, match="epochs"):
        make_detector("ada", epochs=0)


def test_bad_input_is_refused_with_a_clear_message(trained_ada):
    good = np.zeros((2, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match="rank 4"):
        trained_ada.score_samples(good[0])
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28, 1\)"):
        trained_ada.score_samples(np.zeros((2, 32, 32, 1), np.float32))
    nan = good.copy()
    nan[1, 3, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        trained_ada.score_samples(nan)
    with pytest.raises(ValueError, match="uint8"):
        trained_ada.score_samples(good.astype(np.uint8))
    with pytest.raises(ValueError, match="known anomalies"):
        make_detector("ada").fit(good, x_known=good)


def test_unfitted_detector_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        make_detector("ada").score_samples(np.zeros((1, 28, 28, 1), np.float32))


def test_attention_floor_interpolates_towards_the_pixel_residual(trained_ada, tiny_split):
    x = tiny_split.x_test[:20]
    pixel = trained_ada.variant("anovaegan").score_samples(x)
    cam_only = trained_ada.variant("ada-cam-only").score_samples(x)
    floored = trained_ada.variant("ada-cam-only", attention_floor=1e6).score_samples(x)
    np.testing.assert_allclose(floored, pixel, rtol=1e-3)
    assert not np.allclose(cam_only, pixel, rtol=1e-3)
    with pytest.raises(ValueError, match="attention_floor"):
        make_detector("ada", attention_floor=-1)


def test_variant_changes_score_settings_without_retraining(trained_ada, tiny_split):
    x = tiny_split.x_test[:20]
    parts = trained_ada.explain(x)
    doubled = trained_ada.variant(beta=2 * trained_ada.beta)
    assert doubled.model_ is trained_ada.model_
    assert doubled.beta_effective_ == pytest.approx(2 * trained_ada.beta_effective_)
    expected = parts["weighted_residual"] - doubled.beta_effective_ * parts["normal_probability"]
    np.testing.assert_allclose(doubled.score_samples(x), expected, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="can change only"):
        trained_ada.variant(epochs=3)


def test_variant_remeasures_beta_units_for_other_attention_settings(trained_ada, tiny_split, caplog):
    """Regression: a variant with other attention settings silently kept the fit-time term's spread units."""
    x_val = tiny_split.x_val[:64]  # the images fit measured the spread ratio on
    same = trained_ada.variant(x_reference=x_val)
    assert same.spread_ratio_ == pytest.approx(trained_ada.spread_ratio_, rel=1e-5)
    with caplog.at_level(logging.WARNING, logger="adda_keras.detectors.ada"):
        kept = trained_ada.variant(attention_floor=5.0)
    assert kept.spread_ratio_ == trained_ada.spread_ratio_
    assert any("x_reference" in record.getMessage() for record in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="adda_keras.detectors.ada"):
        measured = trained_ada.variant(attention_floor=5.0, x_reference=x_val)
        trained_ada.variant("ada-cam-only", attention_floor=5.0)  # no D term: nothing to warn about
    assert not caplog.records
    # a large floor flattens the attention, so the attention term's spread and the ratio change
    assert measured.spread_ratio_ != pytest.approx(trained_ada.spread_ratio_, rel=1e-3)
    parts = measured.explain(x_val)
    ratio = np.std(parts["weighted_residual"]) / np.std(parts["normal_probability"])
    assert measured.spread_ratio_ == pytest.approx(ratio, rel=1e-4)
    with pytest.raises(ValueError, match="shape"):
        trained_ada.variant(attention_floor=1.0, x_reference=x_val[:, :20])


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("ada", {"pixel_weight": -1}, "pixel_weight"),
        ("ada", {"kl_weight": float("nan")}, "kl_weight"),
        ("ada-semi", {"gamma": float("inf")}, "gamma"),
        ("anovae", {"kl_weight": float("nan")}, "kl_weight"),
        ("anogan", {"search_learning_rate": float("nan")}, "search_learning_rate"),
        ("anogan", {"search_steps": True}, "search_steps"),
        ("anogan", {"feature_weight": float("nan")}, "feature_weight"),
        ("knn", {"n_neighbors": 2.7}, "n_neighbors"),
        ("pca", {"n_components": 0}, "n_components"),
        ("ocsvm", {"nu": 0.0}, "nu"),
        ("isolation-forest", {"n_estimators": 10.5}, "n_estimators"),
        ("ada", {"seed": -1}, "seed"),
        ("anogan", {"seed": 2**32}, "seed"),
        ("knn", {"seed": -3}, "seed"),
        ("ada", {"learning_rate": float("nan")}, "learning_rate"),
    ],
)
def test_numeric_settings_are_checked_at_construction(name, params, message):
    with pytest.raises(ValueError, match=message):
        make_detector(name, **params)


def test_anogan_score_does_not_depend_on_the_batch(tiny_split):
    detector = make_detector("anogan", epochs=1, batch_size=32, search_steps=20, seed=0)
    detector.fit(tiny_split.x_train[:128])
    x = tiny_split.x_test[:24]
    together = detector.score_samples(x, batch_size=512)
    one_by_one = detector.score_samples(x, batch_size=1)
    reversed_order = detector.score_samples(x[::-1], batch_size=7)[::-1]
    np.testing.assert_allclose(one_by_one, together, rtol=1e-5)
    np.testing.assert_allclose(reversed_order, together, rtol=1e-5)


def test_one_validation_image_does_not_silently_drop_the_d_term(tiny_split, caplog):
    with caplog.at_level(logging.WARNING, logger="adda_keras.detectors.ada"):
        detector = make_detector("ada", epochs=1, batch_size=32)
        detector.fit(tiny_split.x_train[:64], x_val=tiny_split.x_val[:1])
    assert any("x_val holds 1 image" in r.getMessage() and "x_train" in r.getMessage() for r in caplog.records)
    assert detector.spread_ratio_ > 0 and detector.beta_effective_ > 0


def test_corrupt_saved_detectors_name_the_file(trained_ada, tiny_split, tmp_path):
    good = tmp_path / "ada.keras"
    trained_ada.save(good)
    knn = make_detector("knn").fit(tiny_split.x_train[:32])
    knn.save(tmp_path / "knn.pkl")
    files = {
        "junk.keras": b"not a zip",
        "empty.keras": b"",
        "truncated.keras": good.read_bytes()[: good.stat().st_size // 2],
        "empty.pkl": b"",
        "truncated.pkl": (tmp_path / "knn.pkl").read_bytes()[:100],
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=rf"{name}.*corrupt, truncated"):
            load_detector(tmp_path / name)


def test_detectors_pickled_before_the_move_into_families_still_load(tiny_split, tmp_path):
    """Regression: 0.1.0 pickled pixel baselines as ``adda_keras.baselines.*``, now ``detectors.baselines``."""
    knn = make_detector("knn").fit(tiny_split.x_train[:32])
    current = pickle.dumps(knn, protocol=2)  # protocol 2 names classes as plain "module\nname" text
    assert b"adda_keras.detectors.baselines\n" in current
    (tmp_path / "old.pkl").write_bytes(current.replace(b"adda_keras.detectors.baselines\n", b"adda_keras.baselines\n"))
    loaded = load_detector(tmp_path / "old.pkl")
    assert type(loaded) is type(knn)
    np.testing.assert_allclose(loaded.score_samples(tiny_split.x_test[:16]), knn.score_samples(tiny_split.x_test[:16]))


def test_stored_scores_can_be_read_at_another_beta(trained_ada, tiny_split):
    """The identity behind studies/rescore_beta.py, on a real detector's own variants."""
    from adda_keras.scoring import rescale_beta

    x = tiny_split.x_test[:40]
    ada, cam_only = trained_ada.score_samples(x), trained_ada.variant("ada-cam-only").score_samples(x)
    expected = trained_ada.variant(beta=0.5).score_samples(x)
    np.testing.assert_allclose(rescale_beta(ada, cam_only, trained_ada.beta, 0.5), expected, rtol=1e-4, atol=1e-5)


def test_beta_search_scores_the_terms_with_the_detectors_own_formula(trained_ada, tiny_split) -> None:
    """``decide_beta`` and ``_auroc_per_beta`` score the stored terms as ``score_samples`` scores the images."""
    from adda_keras.scoring import ada_score_from_terms

    images = tiny_split.x_test[:48]
    parts = trained_ada.explain(images)
    for beta in (0.0, 0.5, trained_ada.beta):
        from_terms = ada_score_from_terms(
            parts["weighted_residual"].astype(np.float64),
            parts["normal_probability"].astype(np.float64),
            beta * trained_ada.spread_ratio_,
        )
        scored = trained_ada.variant(beta=beta).score_samples(images)
        np.testing.assert_allclose(from_terms, scored, rtol=1e-5, atol=1e-6)


def test_choose_beta_keeps_the_best_validation_beta_of_the_detectors_own_score(trained_ada, tiny_split) -> None:
    detector = trained_ada.variant()  # a copy: the session fixture stays as it is
    x_val, anomalies = tiny_split.x_val[:64], tiny_split.x_test[tiny_split.y_test == 1][:40]
    grid = (2.0, 0.0, 0.5, 0.5)
    assert detector.choose_beta(x_val, anomalies, grid=grid) is detector
    assert list(detector.beta_validation_) == [0.0, 0.5, 2.0]
    labels = np.r_[np.zeros(len(x_val)), np.ones(len(anomalies))]
    images = np.concatenate([x_val, anomalies])
    for beta, value in detector.beta_validation_.items():  # the same score that variant() and predict() give
        assert value == pytest.approx(auroc(labels, trained_ada.variant(beta=beta).score_samples(images)), abs=1e-6)
    choice = detector.beta_choice_
    assert choice["current"] == trained_ada.beta and choice["chosen"] == detector.beta
    assert detector.beta_validation_[choice["best"]] == max(detector.beta_validation_.values())
    # the best beta replaces the current one only when it gains more than two bootstrap standard errors
    moved = detector.beta != trained_ada.beta
    assert moved == (choice["gain"] > 0 and choice["gain"] > 2 * choice["gain_se"])
    assert set(choice["se"]) == {0.0, 0.5, 2.0} and all(0 <= v < 0.5 for v in choice["se"].values())
    refitted = trained_ada.variant(beta=detector.beta).fit_threshold(x_val)
    assert detector.threshold_ == pytest.approx(refitted.threshold_)
    # with the rule switched off (switch_se=0) the best AUROC wins, as before the rule existed
    greedy = trained_ada.variant().choose_beta(x_val, anomalies, grid=grid, switch_se=0)
    assert greedy.beta_validation_[greedy.beta] == max(greedy.beta_validation_.values())


def test_choose_beta_keeps_the_default_on_a_chance_margin(trained_ada, tiny_split, caplog) -> None:
    """Regression (issues 18, 20): a handful of anomalies moved beta on a one-pair margin, and copies of normal
    images given as anomalies moved it from 0.5 to 0 with every AUROC at 0.5, without a word."""
    x_val = tiny_split.x_val[:64]
    with caplog.at_level("WARNING", logger="adda_keras.detectors.ada"):
        copies = trained_ada.variant().choose_beta(x_val, x_val.copy())
    assert all(value == pytest.approx(0.5, abs=0.01) for value in copies.beta_validation_.values())
    assert copies.beta == trained_ada.beta == 0.5
    assert any("indistinguishable" in r.getMessage() for r in caplog.records)
    few = tiny_split.x_test[tiny_split.y_test == 1][:4]
    caplog.clear()
    with caplog.at_level("WARNING", logger="adda_keras.detectors.ada"):
        chosen = trained_ada.variant().choose_beta(x_val, few)
    assert any("only 4 labelled anomalies" in r.getMessage() for r in caplog.records)
    assert chosen.beta_choice_["warnings"] and chosen.beta_choice_["n_anomalies"] == 4
    # regression (issue 20): with one or two anomalies the bootstrap saw no spread between anomalies, its standard
    # error was tiny, and beta moved on a single image; below MIN_BETA_ANOMALIES beta now stays, greedy on request
    assert chosen.beta == trained_ada.beta
    greedy = trained_ada.variant().choose_beta(x_val, few[:1], switch_se=0)
    assert greedy.beta_validation_[greedy.beta] == max(greedy.beta_validation_.values())


def test_predict_refuses_bad_batch_sizes_and_empty_input(trained_ada, tiny_split) -> None:
    """Regression: batch_size=0 raised "range() arg 3 must not be zero", -1 "need at least one array"."""
    x = tiny_split.x_test[:4]
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="batch_size must be an integer"):
            trained_ada.score_samples(x, batch_size=bad)
        with pytest.raises(ValueError, match="batch_size must be an integer"):
            trained_ada.fit_threshold(x, batch_size=bad)
    with pytest.raises(ValueError, match="at least one image"):
        trained_ada.score_samples(x[:0])


def test_choose_beta_refuses_what_it_cannot_do(trained_ada, tiny_split) -> None:
    x_val = tiny_split.x_val[:8]
    with pytest.raises(ValueError, match="no D term"):
        trained_ada.variant("anovaegan").choose_beta(x_val, x_val)
    with pytest.raises(ValueError, match="grid"):
        trained_ada.variant().choose_beta(x_val, x_val, grid=[-1.0])
    with pytest.raises(ValueError, match="grid"):
        trained_ada.variant().choose_beta(x_val, x_val, grid=[])
    with pytest.raises(ValueError, match="grid must be a sequence"):  # regression: "'float' object is not iterable"
        trained_ada.variant().choose_beta(x_val, x_val, grid=0.5)
    with pytest.raises(ValueError, match="switch_se"):
        trained_ada.variant().choose_beta(x_val, x_val, switch_se=-1)
    with pytest.raises(RuntimeError, match="not fitted"):
        make_detector("ada").choose_beta(x_val, x_val)


def test_every_registered_detector_declares_its_capabilities() -> None:
    """What the CLI and the experiments read instead of name lists: ``learning`` and ``beta_choosers``."""
    from adda_keras.detectors import LEARNING_TYPES, detector_capabilities
    from adda_keras.detectors.base import _REGISTRY

    for name in available_detectors():
        cls = _REGISTRY[name]
        assert getattr(cls, "learning", None) in LEARNING_TYPES, f"{cls.__name__} ({name}) must declare learning"
        assert set(cls.beta_choosers) <= set(cls.methods), f"{cls.__name__} chooses beta for a method it lacks"
        assert detector_capabilities(name).method == name
    learning = {name: detector_capabilities(name).learning for name in available_detectors()}
    assert learning["ada"] == learning["ada-synthetic"] == learning["knn"] == "one-class"
    assert learning["ada-semi"] == learning["ada-cam-ano"] == "semi-supervised"
    assert learning["cnn-regression"] == "supervised"
    choosers = {name for name in available_detectors() if detector_capabilities(name).chooses_beta}
    assert "ada" in choosers and not choosers & {"anovaegan", "ada-cam-only", "ada-d-only", "ada-semi", "knn"}
    needs_known = {name for name in available_detectors() if detector_capabilities(name).needs_known_anomaly}
    assert {"ada-semi", "ada-cam-ano", "cnn-regression"} <= needs_known  # own_images.SUPERVISED_METHODS before
    assert not needs_known & {"ada", "ada-synthetic", "anovaegan", "anovae", "anogan", "knn", "pca"}
    optional = {name for name in available_detectors() if detector_capabilities(name).known_anomalies_optional}
    assert optional == {"ada-compare", "compare"} and not optional & needs_known  # trains with or without them
    assert all(detector_capabilities(name).trains_on_known for name in optional)
    with pytest.raises(ValueError, match="unknown detector"):
        detector_capabilities("no-such-method")
