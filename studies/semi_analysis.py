"""The stored ten-digit Table 3 units, read without retraining: combining the discriminators, β from few anomalies.

    python -m studies.semi_analysis            # results/quick/table3-ten-digits/{combinations,few_anomalies}.*
    python -m studies.semi_analysis --digits 4 5 6

Writes ``combinations.md`` / ``.csv`` and ``few_anomalies.md`` / ``.csv`` into the table's folder. Units
stored before they kept score terms are skipped with a message.

Each unit of ``reproduce --table 3 --protocol ten-digits`` keeps the two
terms of the ADA-family scores (attention-weighted residual and ``D(x)``)
of ``D_G`` alone, ``D_ano`` alone and both, on validation and test images
(:func:`adda_keras.experiments.semi_supervised.score_terms`). Two questions
of the semi-supervised issue are answered from them:

* **How should the two discriminators be combined?**
  (:func:`combination_rows`) The paper sums their CAMs and beliefs
  (``ada-semi``). The alternatives are sums of the two detectors' scores,
  each standardised on the normal validation images (weights
  :data:`COMBINATION_WEIGHTS` for ``D_G``), their maximum, and a weight
  chosen per unit on validation. Every combination is judged on
  validation images only: the labelled known anomalies held out of
  training and, as a stand-in for the unknown kinds that nobody labelled,
  patch-like self-made anomalies of the validation normals. Test AUROCs
  are reported beside them, never used to choose.
* **Does ``fit --known-anomaly`` with a few anomalies ever hurt?**
  (:func:`few_anomaly_rows`) ``choose_beta`` is applied, with the library's
  own rule (:func:`~adda_keras.detectors.ada.decide_beta`), to random
  draws of 1-20 labelled images of the known digit, and the test AUROC at
  the chosen β is compared with the default's; the greedy rule
  (``switch_se=0``, the best validation AUROC) is shown beside it.
"""

from __future__ import annotations

import argparse
import csv
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras.detectors.ada import BETA_GRID, BETA_SWITCH_SE, SCORE_DEFAULTS, decide_beta
from adda_keras.evaluation import auroc
from adda_keras.experiments.common import machine_info
from adda_keras.experiments.semi_supervised import known_anomaly_of, make_semi_config
from adda_keras.scoring import EPSILON, ada_score_from_terms

#: weights of ``D_G``'s standardised score in the weighted sums (``D_ano``'s is one minus it)
COMBINATION_WEIGHTS = (0.25, 0.5, 0.75)
#: the combinations compared, in table order
COMBINATIONS = (
    "D_G only (ADA)",
    "D_ano only",
    "paper: sum of CAMs and D (ada-semi)",
    *(f"score sum, w_G {w:g}" for w in COMBINATION_WEIGHTS),
    "score sum, w_G chosen on validation",
    "score max",
)
#: numbers of labelled anomalies given to ``choose_beta`` in :func:`few_anomaly_rows`
FEW_ANOMALIES = (1, 3, 5, 10, 20)
#: random draws of labelled anomalies per number and unit
DRAWS = 50
_SETS = ("val", "val_known", "val_made", "test")


def load_terms(units: Path, normal: int, seed: int) -> dict[str, np.ndarray]:
    """A unit's stored scores and score terms (``normal{d}-seed{s}.npz``); ``ValueError`` if it has no terms."""
    path = Path(units) / f"normal{normal}-seed{seed}.npz"
    if not path.exists():
        raise ValueError(f"no stored unit {path}")
    with np.load(path) as stored:
        terms = {key: stored[key] for key in stored.files}
    if not any("-residual-n" in key for key in terms):
        raise ValueError(f"{path} was stored before units kept score terms; rerun its unit")
    return terms


def _score(terms: dict[str, np.ndarray], method: str, name: str, n_known: int, weight: float) -> np.ndarray:
    residual = terms[f"{method}-{name}-residual-n{n_known}"].astype(np.float64)
    return ada_score_from_terms(residual, terms[f"{method}-{name}-probability-n{n_known}"], weight)


def _d_ano_weight(terms: dict[str, np.ndarray], n_known: int) -> float:
    """The raw D weight of a ``D_ano``-only ADA score at the default β, its spread ratio measured as ``fit`` does."""
    residual = terms[f"ada-cam-ano-val-residual-n{n_known}"]
    probability = terms[f"ada-cam-ano-val-probability-n{n_known}"]
    # β times the spread ratio, multiplied before dividing as when the stored tables were written
    return SCORE_DEFAULTS["beta"] * float(np.std(residual)) / max(float(np.std(probability)), EPSILON)


def combination_scores(terms: dict[str, np.ndarray], n_known: int) -> dict[str, dict[str, np.ndarray]]:
    """Every combination of :data:`COMBINATIONS` on each image set (``val``, ``val_known``, ``val_made``, ``test``)."""
    d_ano_weight = _d_ano_weight(terms, n_known)
    single = {
        "g": {s: _score(terms, "ada", s, n_known, float(terms[f"ada-beta_raw-n{n_known}"])) for s in _SETS},
        "ano": {s: _score(terms, "ada-cam-ano", s, n_known, d_ano_weight) for s in _SETS},
    }
    standard = {}
    for key, scores in single.items():  # standardised on the normal validation images
        mean, std = float(np.mean(scores["val"])), max(float(np.std(scores["val"])), EPSILON)
        standard[key] = {s: (v - mean) / std for s, v in scores.items()}
    paper_weight = float(terms[f"ada-semi-beta_raw-n{n_known}"])
    out = {
        COMBINATIONS[0]: single["g"],
        COMBINATIONS[1]: single["ano"],
        COMBINATIONS[2]: {s: _score(terms, "ada-semi", s, n_known, paper_weight) for s in _SETS},
    }
    for w in COMBINATION_WEIGHTS:
        out[f"score sum, w_G {w:g}"] = {s: w * standard["g"][s] + (1 - w) * standard["ano"][s] for s in _SETS}
    out["score max"] = {s: np.maximum(standard["g"][s], standard["ano"][s]) for s in _SETS}
    return out


def _validation(scores: dict[str, np.ndarray]) -> dict[str, float]:
    normal = scores["val"]
    out = {}
    for part, name in (("known", "val_known"), ("made", "val_made")):
        out[part] = auroc(np.r_[np.zeros(len(normal)), np.ones(len(scores[name]))], np.r_[normal, scores[name]])
    out["criterion"] = (out["known"] + out["made"]) / 2
    return out


def _test(terms: dict[str, np.ndarray], n_known: int, normal: int, scores: np.ndarray) -> dict[str, float]:
    labels, classes = terms[f"y_test-n{n_known}"], terms[f"test_classes-n{n_known}"]
    known = (labels == 1) & (classes == known_anomaly_of(normal))
    unknown = (labels == 1) & ~known
    return {
        part: auroc(labels[(labels == 0) | anomalous], scores[(labels == 0) | anomalous])
        for part, anomalous in (("unknown", unknown), ("known", known))
    }


def combination_rows(units: Path, digits: Sequence[int], seed: int, n_known: int) -> list[dict[str, Any]]:
    """Validation (known, self-made, their mean) and test (unknown, known) AUROCs of every combination, per digit.

    ``"score sum, w_G chosen on validation"`` takes, per unit, the weight
    of :data:`COMBINATION_WEIGHTS` with the best validation criterion (the
    mean of the known and self-made AUROCs; the smallest weight of equals).
    """
    rows = []
    for normal in digits:
        terms = load_terms(units, normal, seed)
        scores = combination_scores(terms, n_known)
        validation = {name: _validation(s) for name, s in scores.items()}
        weighted = [f"score sum, w_G {w:g}" for w in COMBINATION_WEIGHTS]
        picked = max(weighted, key=lambda name: validation[name]["criterion"])
        scores["score sum, w_G chosen on validation"] = scores[picked]
        validation["score sum, w_G chosen on validation"] = validation[picked]
        for name in COMBINATIONS:
            row = {"normal": normal, "seed": seed, "n_known": n_known, "combination": name}
            row.update({f"val_{k}": round(v, 5) for k, v in validation[name].items()})
            row.update(
                {f"test_{k}": round(v, 5) for k, v in _test(terms, n_known, normal, scores[name]["test"]).items()}
            )
            if name == "score sum, w_G chosen on validation":
                row["weight_chosen"] = float(picked.rsplit(" ", 1)[-1])
            rows.append(row)
    return rows


def few_anomaly_rows(
    units: Path,
    digits: Sequence[int],
    seed: int,
    counts: Sequence[int] = FEW_ANOMALIES,
    draws: int = DRAWS,
    n_known: int = 100,
) -> list[dict[str, Any]]:
    """``choose_beta`` on ``count`` labelled known anomalies (random draws), against the default β, per digit.

    The self-supervised ADA of each unit is the detector; its normal
    validation images are ``x_val`` and the labelled anomalies are drawn
    from the known digit's labelled images (never test images), as ``fit
    --method ada --known-anomaly DIR`` would get them. Each row is one digit
    and count: the mean and the worst test AUROC change (chosen β minus the
    default β, all test anomalies) and how often β moved, under the
    library's rule (``switch_se`` :data:`BETA_SWITCH_SE`) and the greedy
    one (``switch_se`` 0).
    """
    default = SCORE_DEFAULTS["beta"]
    rows = []
    for normal in digits:
        terms = load_terms(units, normal, seed)
        weight = float(terms[f"ada-beta_raw-n{n_known}"])
        spread_ratio = weight / default
        residual = {s: terms[f"ada-{s}-residual-n{n_known}"] for s in ("val", "known", "test")}
        probability = {s: terms[f"ada-{s}-probability-n{n_known}"] for s in ("val", "known", "test")}
        labels = terms[f"y_test-n{n_known}"]
        test_auroc = {
            b: auroc(labels, residual["test"] - b * spread_ratio * probability["test"])
            for b in sorted({*BETA_GRID, default})
        }
        rng = np.random.default_rng(seed + 1000 * normal)
        n_val = len(residual["val"])
        for count in counts:
            changes: dict[str, list[float]] = {"rule": [], "greedy": []}
            moved: dict[str, int] = {"rule": 0, "greedy": 0}
            for draw in range(draws):
                pick = rng.choice(len(residual["known"]), size=count, replace=False)
                both_residual = np.r_[residual["val"], residual["known"][pick]]
                both_probability = np.r_[probability["val"], probability["known"][pick]]
                for rule, switch_se in (("rule", BETA_SWITCH_SE), ("greedy", 0.0)):
                    chosen = decide_beta(
                        both_residual, both_probability, n_val, spread_ratio, BETA_GRID, default, switch_se, seed=draw
                    )["chosen"]
                    changes[rule].append(test_auroc[chosen] - test_auroc[default])
                    moved[rule] += chosen != default
            row = {
                "normal": normal,
                "seed": seed,
                "labelled": count,
                "default_test_auroc": round(test_auroc[default], 5),
            }
            for rule in ("rule", "greedy"):
                row[f"{rule}_mean_change"] = round(float(np.mean(changes[rule])), 5)
                row[f"{rule}_worst_change"] = round(float(np.min(changes[rule])), 5)
                row[f"{rule}_moved"] = moved[rule] / draws
            rows.append(row)
    return rows


def combination_markdown(rows: list[dict[str, Any]], command: str, machine: str) -> str:
    """Mean validation and test AUROCs of every combination, per ``n_known``; the validation choice named."""
    lines = [
        "# Combining D_G and D_ano, chosen on validation images (ten-digit Table 3 units)",
        "",
        "Validation: AUROC of the normal validation images against the held-out labelled known anomalies "
        "(`val known`) and against patch-like self-made anomalies of the validation normals (`val made`, a "
        "stand-in for the kinds nobody labelled); `criterion` is their mean. The combination with the best mean "
        "criterion is the validation choice. Test AUROCs (unknown digits, known digit) are shown beside, never "
        "used to choose. Score sums standardise each detector's score on the normal validation images.",
    ]
    digits = sorted({r["normal"] for r in rows})
    for n_known in sorted({r["n_known"] for r in rows}, reverse=True):
        mine = [r for r in rows if r["n_known"] == n_known]
        means = {
            name: {
                key: float(np.mean([r[key] for r in mine if r["combination"] == name]))
                for key in ("val_known", "val_made", "val_criterion", "test_unknown", "test_known")
            }
            for name in COMBINATIONS
        }
        chosen = max(COMBINATIONS, key=lambda name: means[name]["val_criterion"])
        paper = {r["normal"]: r["val_criterion"] for r in mine if r["combination"] == COMBINATIONS[2]}
        lines += [
            "",
            f"## n_known = {n_known} (normal digits {', '.join(map(str, digits))}; mean over digits)",
            "",
            "| combination | val known | val made | criterion | digits above the paper's sum (criterion) "
            "| test unknown | test known |",
            "|---|---|---|---|---|---|---|",
        ]
        for name in COMBINATIONS:
            above = sum(r["val_criterion"] > paper[r["normal"]] for r in mine if r["combination"] == name)
            m = means[name]
            label = f"**{name}** (validation choice)" if name == chosen else name
            lines.append(
                f"| {label} | {m['val_known']:.3f} | {m['val_made']:.3f} | {m['val_criterion']:.3f} | "
                f"{above} of {len(digits)} | {m['test_unknown']:.3f} | {m['test_known']:.3f} |"
            )
        weights = [r["weight_chosen"] for r in mine if "weight_chosen" in r]
        lines += ["", f"Weights of D_G chosen per digit on validation: {', '.join(f'{w:g}' for w in weights)}."]
    lines += ["", f"Command: `{command}`  ", f"Machine: {machine}.", ""]
    return "\n".join(lines)


def few_anomaly_markdown(rows: list[dict[str, Any]], draws: int, command: str, machine: str) -> str:
    """Test AUROC change of ``choose_beta`` against the default β, by number of labelled anomalies."""
    digits = sorted({r["normal"] for r in rows})
    lines = [
        "# `fit --known-anomaly`: does choosing β on a few labelled anomalies ever hurt? (ten-digit Table 3 units)",
        "",
        f"Self-supervised ADA of each normal digit ({', '.join(map(str, digits))}); `choose_beta` on its normal "
        f"validation images and {draws} random draws of k labelled images of the known digit (never test images), "
        "as `fit --method ada --known-anomaly DIR` gets them. Change = test AUROC (normal against every test "
        f"anomaly) at the chosen β minus at the default β {SCORE_DEFAULTS['beta']:g}. The library's rule keeps "
        f"the default unless a candidate gains more than {BETA_SWITCH_SE:g} bootstrap standard errors, and never "
        "moves it below 10 anomalies; the greedy rule takes the best validation AUROC.",
        "",
        "| labelled k | rule: mean change | rule: worst change | rule: draws that moved β | greedy: mean change "
        "| greedy: worst change | greedy: draws that moved β |",
        "|---|---|---|---|---|---|---|",
    ]
    for count in sorted({r["labelled"] for r in rows}):
        mine = [r for r in rows if r["labelled"] == count]
        cells = []
        for rule in ("rule", "greedy"):
            cells += [
                f"{np.mean([r[f'{rule}_mean_change'] for r in mine]):+.4f}",
                f"{min(r[f'{rule}_worst_change'] for r in mine):+.4f}",
                f"{round(sum(r[f'{rule}_moved'] for r in mine) * draws)} of {draws * len(mine)}",
            ]
        lines.append(f"| {count} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Worst change per digit under the library's rule, k ≤ 10: "
        + ", ".join(
            f"{d}: {min(r['rule_worst_change'] for r in rows if r['normal'] == d and r['labelled'] <= 10):+.4f}"
            for d in digits
        )
        + ".",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine}.",
        "",
    ]
    return "\n".join(lines)


def write_csv(path: Path, rows: list[dict]) -> None:
    """Rows as CSV, every key a column."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="quick", choices=("tiny", "quick", "paper"))
    parser.add_argument("--output", default="results")
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.getLogger("adda_keras").setLevel(logging.ERROR)  # one beta warning per draw would drown the tables
    config = make_semi_config(args.preset, digits=args.digits, output_dir=args.output)
    units = config.folder / "units"
    digits = []
    for normal in config.digits:
        try:
            load_terms(units, normal, args.seed)
            digits.append(normal)
        except ValueError as error:
            print(f"skipping normal digit {normal}: {error}")
    if not digits:
        raise SystemExit(f"no unit with score terms in {units}")
    machine = machine_info()
    where = f"{machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}"
    command = "python -m studies.semi_analysis"
    command += "" if args.preset == "quick" else f" --preset {args.preset}"
    command += "" if args.output == "results" else f" --output {args.output}"
    command += "" if args.digits == list(range(10)) else " --digits " + " ".join(map(str, args.digits))
    combined = [r for n in config.n_known for r in combination_rows(units, digits, args.seed, n)]
    write_csv(config.folder / "combinations.csv", combined)
    (config.folder / "combinations.md").write_text(combination_markdown(combined, command, where))
    few = few_anomaly_rows(units, digits, args.seed)
    write_csv(config.folder / "few_anomalies.csv", few)
    (config.folder / "few_anomalies.md").write_text(few_anomaly_markdown(few, DRAWS, command, where))
    print((config.folder / "combinations.md").read_text())
    print((config.folder / "few_anomalies.md").read_text())


if __name__ == "__main__":
    main()
