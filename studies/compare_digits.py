"""Study: ``ada-compare`` on the ten-digit protocol, its settings read from validation images only.

For each normal digit (and seed) of ``reproduce --table 3 --protocol
ten-digits`` (noisy MNIST, quick preset: 20 epochs; known anomaly the next
digit): one self-supervised ADA, then ``ada-compare`` three ways on its
generator and ``D_G``: without labels (self-made foreign patches only), and
with 100 and with 10 labelled images of the known digit. For every
detector and every β of :data:`BETAS` (a score setting: no retraining) it
records

* the **validation** AUROC: validation normals against the known digit's
  validation images (never trained on; for the label-free comparator they
  are an unseen kind of anomaly, as the unknown digits of the test are);
* what each discriminator believes (:func:`adda_keras.diagnostics.belief_aurocs`):
  training vs validation normals, validation known, held-out self-made;
* the **test** AUROCs on the unknown and on the known anomalies — written
  down, never read by a choice.

β for ``ada-compare`` is chosen as the β with the best mean validation AUROC
over the digits run (:func:`choose_beta_on_validation`): without labels on
``compare-0``, with labels on ``compare-100`` (``compare-10``'s validation
set holds only 2 known images, so it takes ``compare-100``'s β). Units are stored one
per digit and seed (``results/compare/units``), resumable; ``--table``
writes ``results/compare/table.md`` from the stored units.

    python -m studies.compare_digits --digits 2 5 --seeds 0
    python -m studies.compare_digits --table
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras import make_detector
from adda_keras.data import load_mnist
from adda_keras.data.foreign import make_foreign_patches
from adda_keras.diagnostics import belief_aurocs
from adda_keras.evaluation import auroc
from adda_keras.experiments.common import machine_info
from adda_keras.experiments.files import atomic_output
from adda_keras.experiments.reproduce import PRESETS
from adda_keras.experiments.semi_supervised import known_anomaly_of, noisy_semi_split, part_aurocs

FOLDER = Path("results/compare")
BETAS = (0.0, 0.5, 1.0, 2.0, 5.0)
#: the detectors of a unit: name -> number of labelled training images of the known digit (None: ADA itself)
RUNS = {"ada": None, "compare-0": 0, "compare-100": 100, "compare-10": 10}
#: seed offset of the held-out self-made anomalies of the validation normals
VAL_PATCH_SEED = 9002


def run_unit(normal: int, seed: int, epochs: int) -> dict[str, Any]:
    """Train and measure every detector of :data:`RUNS` on one normal digit and seed."""
    preset = PRESETS["quick"]
    mnist = load_mnist("bundled")
    splits = {n: noisy_semi_split(preset, mnist, normal, n, seed) for n in (100, 10)}
    base = splits[100]
    x_made, _ = make_foreign_patches(base.x_val, seed + VAL_PATCH_SEED)
    start = time.perf_counter()
    ada = make_detector("ada", epochs=epochs, seed=seed).fit(base.x_train, base.x_val)
    ada_seconds = time.perf_counter() - start
    unit: dict[str, Any] = {"normal": normal, "known": known_anomaly_of(normal), "seed": seed, "epochs": epochs}
    unit["runs"] = {"ada": measure(ada, base, x_made, ada_seconds)}
    for name, n_known in RUNS.items():
        if n_known is None:
            continue
        split = splits[n_known or 100]
        labelled = {"x_known": split.x_known, "x_val_known": split.x_val_known} if n_known else {}
        start = time.perf_counter()
        detector = make_detector("ada-compare", epochs=epochs, seed=seed).fit(
            split.x_train, split.x_val, self_supervised=ada, **labelled
        )
        unit["runs"][name] = measure(detector, split, x_made, time.perf_counter() - start)
        unit["runs"][name]["beta_selected"] = detector.beta_selected_
        alone = detector.variant("compare")
        unit["runs"][name]["compare_alone"] = evaluate(alone, split)
    unit["machine"] = machine_info()
    return unit


def evaluate(detector: Any, split: Any) -> dict[str, float]:
    """Validation AUROC (validation normals vs the known digit's validation images) and the test AUROCs."""
    validation = np.r_[detector.score_samples(split.x_val), detector.score_samples(split.x_val_known)]
    labels = np.r_[np.zeros(len(split.x_val)), np.ones(len(split.x_val_known))]
    return {"val": auroc(labels, validation), **part_aurocs(split, detector.score_samples(split.x_test))}


def measure(detector: Any, split: Any, x_made: np.ndarray, seconds: float) -> dict[str, Any]:
    """Every β's validation and test AUROCs, the beliefs, the training time."""
    per_beta = {}
    for beta in BETAS:
        variant = detector.variant(beta=beta)
        per_beta[str(beta)] = evaluate(variant, split)
    beliefs = belief_aurocs(detector, split.x_train, split.x_val, split.x_val_known, x_made)
    return {"per_beta": per_beta, "beliefs": beliefs, "train_seconds": round(seconds, 1)}


def load_units() -> list[dict[str, Any]]:
    """Every stored unit."""
    return [json.loads(p.read_text()) for p in sorted((FOLDER / "units").glob("*.json"))]


def choose_beta_on_validation(units: list[dict[str, Any]], run: str) -> float:
    """The β of :data:`BETAS` with the best mean validation AUROC of ``run`` over ``units`` (smallest of equals)."""
    means = {b: np.mean([u["runs"][run]["per_beta"][str(b)]["val"] for u in units]) for b in BETAS}
    return max(BETAS, key=lambda b: (round(means[b], 6), -b))


def write_table(units: list[dict[str, Any]]) -> str:
    """``results/compare/table.md``: validation columns, then test columns, per digit and mean."""
    units = sorted(units, key=lambda u: (u["seed"], u["normal"]))
    digits = [f"{u['normal']}/s{u['seed']}" for u in units]
    lines = [
        "# `ada-compare` on the ten-digit protocol (study: `python -m studies.compare_digits`)",
        "",
        "Noisy MNIST, quick preset (20 epochs), known anomaly = next digit. Columns: normal digit / seed. "
        "`val` = validation normals vs the known digit's validation images (the choice reads only these); "
        "`unknown` / `known` = test AUROCs, written down after the choice. `compare-0`: no labels "
        "(self-made foreign patches only); `compare-100` / `compare-10`: with that many labelled images.",
        "",
    ]
    # compare-10's validation set holds 2 known images (n_known / 5): its β is compare-100's choice
    chosen = {run: choose_beta_on_validation(units, run) for run in ("compare-0", "compare-100")}
    chosen["compare-10"] = chosen["compare-100"]
    lines.append(
        "β chosen on mean validation AUROC: " + ", ".join(f"{run} {beta:g}" for run, beta in chosen.items()) + "."
    )
    for column in ("val", "unknown", "known"):
        lines += ["", f"## {column}", "", "| run (β) | " + " | ".join(digits) + " | mean |"]
        lines.append("|---" * (len(digits) + 2) + "|")
        rows = (
            [("ada", 0.5)]
            + [(run, beta) for run, beta in chosen.items()]
            + [(run, b) for run in chosen for b in BETAS if b != chosen[run]]
        )
        for run, beta in rows:
            values = [u["runs"][run]["per_beta"][str(beta)][column] for u in units]
            lines.append(
                f"| {run} ({beta:g}) | " + " | ".join(f"{v:.3f}" for v in values) + f" | **{np.mean(values):.3f}** |"
            )
        for run in chosen:
            values = [u["runs"][run]["compare_alone"][column] for u in units]
            lines.append(
                f"| {run}, comparator alone | "
                + " | ".join(f"{v:.3f}" for v in values)
                + f" | **{np.mean(values):.3f}** |"
            )
    lines += ["", "## What the discriminators believe (validation images; AUROC of −belief)", ""]
    lines.append("| run | discriminator | comparison | " + " | ".join(digits) + " | mean |")
    lines.append("|---" * (len(digits) + 4) + "|")
    for run in RUNS:
        for network, values in units[0]["runs"][run]["beliefs"].items():
            for comparison in values:
                row = [u["runs"][run]["beliefs"][network][comparison] for u in units]
                lines.append(
                    f"| {run} | {network} | {comparison} | "
                    + " | ".join(f"{v:.3f}" for v in row)
                    + f" | **{np.mean(row):.3f}** |"
                )
    lines += [
        "",
        "## Training seconds",
        "",
        "| run | " + " | ".join(digits) + " | mean |",
        "|---" * (len(digits) + 2) + "|",
    ]
    for run in RUNS:
        row = [u["runs"][run]["train_seconds"] for u in units]
        lines.append(f"| {run} | " + " | ".join(f"{v:.0f}" for v in row) + f" | {np.mean(row):.0f} |")
    lines += ["", "## The issue's targets (test AUROCs, at the β chosen on validation)", ""]
    lines += target_lines(units, chosen)
    lines += ["", f"Machine: {units[0]['machine']}.", ""]
    text = "\n".join(lines)
    with atomic_output(FOLDER / "table.md") as temporary:
        temporary.write_text(text)
    return text


def target_lines(units: list[dict[str, Any]], chosen: dict[str, float]) -> list[str]:
    """Each target of issue 26 that these units measure, met or not, with its number."""

    def test(run: str, beta: float, column: str) -> np.ndarray:
        return np.array([u["runs"][run]["per_beta"][str(beta)][column] for u in units])

    ada_unknown = test("ada", 0.5, "unknown")
    labelled = test("compare-100", chosen["compare-100"], "unknown") - ada_unknown
    plain = test("compare-0", chosen["compare-0"], "unknown") - ada_unknown
    seconds = np.array([u["runs"]["compare-0"]["train_seconds"] + u["runs"]["ada"]["train_seconds"] for u in units])
    synthetic = 2 * np.array([u["runs"]["ada"]["train_seconds"] for u in units])  # ADA + a second VAEGAN like it

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    return [
        "| target | measured | |",
        "|---|---|---|",
        f"| with 100 labels, unknown anomalies ≥ ADA + 0.02 (mean) | {labelled.mean():+.3f} | "
        f"{verdict(labelled.mean() >= 0.02)} |",
        f"| with 100 labels, never below ADA − 0.005 on a digit | worst {labelled.min():+.3f} | "
        f"{verdict(labelled.min() >= -0.005)} |",
        f"| without labels, unknown anomalies ≥ ADA (mean) | {plain.mean():+.3f} | {verdict(plain.mean() >= 0)} |",
        f"| training ≤ 1.5× ada-synthetic's (ADA + a second VAEGAN of ADA's time) | "
        f"{np.mean(seconds / synthetic):.2f}× | {verdict(np.mean(seconds / synthetic) <= 1.5)} |",
    ]


def main(argv: list[str] | None = None) -> None:
    """Run the units asked for (resuming), then write the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=PRESETS["quick"].epochs)
    parser.add_argument("--table", action="store_true", help="only write the table of the stored units")
    args = parser.parse_args(argv)
    (FOLDER / "units").mkdir(parents=True, exist_ok=True)
    if not args.table:
        for seed in args.seeds:
            for digit in args.digits:
                path = FOLDER / "units" / f"normal{digit}-seed{seed}.json"
                if path.exists() and json.loads(path.read_text())["epochs"] == args.epochs:
                    continue
                print(f"digit {digit} seed {seed} ...", flush=True)
                unit = run_unit(digit, seed, args.epochs)
                with atomic_output(path) as temporary:
                    temporary.write_text(json.dumps(unit, indent=1))
                print(json.dumps({k: v["per_beta"]["0.5"] for k, v in unit["runs"].items()}), flush=True)
    print(write_table(load_units()))


if __name__ == "__main__":
    main()
