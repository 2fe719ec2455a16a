"""The β rule on score terms (:func:`decide_beta`): properties that hold for any validation scores."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from adda_keras.detectors.ada import BETA_GRID, MIN_BETA_ANOMALIES, decide_beta
from adda_keras.evaluation import auroc


@st.composite
def score_terms(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    n_normal = draw(st.integers(5, 40))
    n_anomalies = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    shift = draw(st.floats(-1.0, 1.0))
    residual = np.r_[rng.normal(0, 1, n_normal), rng.normal(shift, 1, n_anomalies)]
    probability = rng.uniform(0, 1, n_normal + n_anomalies)
    return residual, probability, n_normal


@settings(max_examples=40, deadline=None)
@given(score_terms(), st.sampled_from(BETA_GRID), st.floats(0.0, 4.0))
def test_the_rule_keeps_current_unless_the_best_gains_beyond_its_error(terms, current, switch_se) -> None:
    residual, probability, n_normal = terms
    decision = decide_beta(residual, probability, n_normal, 1.3, BETA_GRID, current, switch_se, seed=0)
    labels = np.r_[np.zeros(n_normal), np.ones(len(residual) - n_normal)]
    for beta, value in decision["validation"].items():  # AUROCs of the documented score
        assert np.isclose(value, auroc(labels, residual - beta * 1.3 * probability))
    assert decision["best"] == max(decision["validation"], key=decision["validation"].get)
    assert decision["chosen"] in (current, decision["best"])
    moved = decision["chosen"] != current
    if moved:  # only a gain beyond switch_se standard errors, from enough anomalies, moves beta
        assert decision["gain"] > switch_se * decision["gain_se"]
        assert switch_se == 0 or decision["n_anomalies"] >= MIN_BETA_ANOMALIES
    if switch_se == 0 and decision["gain"] > 0:  # the greedy rule takes the best
        assert moved


def test_too_few_anomalies_never_move_beta_and_say_so() -> None:
    rng = np.random.default_rng(1)
    residual = np.r_[rng.normal(0, 1, 30), [5.0, 5.0]]
    probability = np.r_[rng.uniform(0.5, 1, 30), [0.9, 0.9]]
    decision = decide_beta(residual, probability, 30, 1.0, BETA_GRID, 0.5, 2.0, seed=0)
    assert decision["chosen"] == 0.5 and any("only 2 labelled anomalies" in w for w in decision["warnings"])
