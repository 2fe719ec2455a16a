"""Choose the VAEGAN and attention settings of ADA on validation data only.

For each candidate setting and each tuning digit, one VAEGAN is trained on the
quick preset's noisy training split (seed 0) and scored on *held-out labelled
validation data* (:func:`adda_keras.data.held_out_validation`): normal images
of the seed-0 validation split and 30 images of every other digit, all of
them outside the test splits of seeds 0, 1 and 2, the seeds the published
tables use. The validation images get background noise from their own seed.
Every score (AnoVAEGAN's pixel residual and the ADA variants) comes from the
same trained model; the diagnostics of :mod:`adda_keras.diagnostics` are
recorded beside them. One global setting is chosen for all ten digits by the
mean validation AUROC of ADA over the tuning digits.

Rows are appended to ``results/attention_tuning.csv`` as they finish, so an
interrupted run resumes; ``results/attention_tuning.md`` is rewritten at the
end of each candidate.

    python -m studies.tune_attention [--digits 2 5 7] [--epochs 20] [--candidates base ds2 ...]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras import make_detector
from adda_keras.data import (
    BackgroundNoise,
    apply_noise,
    held_out_validation,
    load_mnist,
    one_class_split,
)
from adda_keras.diagnostics import diagnose
from adda_keras.evaluation import auroc
from adda_keras.experiments.common import machine_info

#: the candidates, as overrides of the settings in ``BASE`` (PROBES.md's sound VAEGAN)
BASE: dict[str, Any] = {
    "kl_weight": 0.1,
    "feature_weight": 0.05,
    "pixel_weight": 1.0,
    "instance_noise": 0.0,
    "residual_swap": False,
    "upsampling": "resize",
    "discriminator_downsampling": 1,
    "spectral_norm": False,
}
CANDIDATES: dict[str, dict[str, Any]] = {
    "base": {},
    "cam7x7": {"discriminator_downsampling": 2},
    "instance-noise-0.1": {"instance_noise": 0.1},
    "spectral-norm": {"spectral_norm": True},
    "kl-1": {"kl_weight": 1.0},
    "feature-1": {"feature_weight": 1.0},
    "transpose-decoder": {"upsampling": "transpose"},
    "cam28x28": {"discriminator_downsampling": 0},
    "residual-swap": {"residual_swap": True},
    "cam7x7-instance-noise-0.1": {"discriminator_downsampling": 2, "instance_noise": 0.1},
    "spectral-norm-cam7x7": {"spectral_norm": True, "discriminator_downsampling": 2},
    "spectral-norm-instance-noise-0.1": {"spectral_norm": True, "instance_noise": 0.1},
    "diff-augment": {"diff_augment": True},
    "spectral-norm-diff-augment": {"spectral_norm": True, "diff_augment": True},
    "equilibrium": {"equilibrium": True},
    "spectral-norm-equilibrium": {"spectral_norm": True, "equilibrium": True},
}
#: score settings compared on every trained model (they need no retraining)
SCORES: dict[str, tuple[str, dict[str, Any]]] = {
    "anovaegan": ("anovaegan", {}),
    "ada": ("ada", {}),
    "ada-cam-only": ("ada-cam-only", {}),
    "ada-d-only": ("ada-d-only", {}),
    "ada-input": ("ada", {"attention_sources": "input"}),
    "ada-beta1": ("ada", {"beta": 1.0}),
    "ada-input-beta1": ("ada", {"attention_sources": "input", "beta": 1.0}),
    "ada-minmax": ("ada", {"normalisation": "minmax"}),
    "ada-absmax": ("ada", {"normalisation": "absmax"}),
    "ada-input-absmax": ("ada", {"attention_sources": "input", "normalisation": "absmax"}),
}
#: the score grid of ``--score-grid``: attention normalisation x sources x β (spread units)
GRID_NORMALISATIONS = ("max", "absmax")
GRID_SOURCES = ("both", "input")
GRID_BETAS = (0.0, 0.1, 0.2, 0.5, 1.0, 2.0)
GRID_FLOORS = (0.0, 0.5)


def evaluate_candidate(
    name: str, digit: int, epochs: int, mnist: Any, noise: BackgroundNoise, grid: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Train one candidate on one digit; validation AUROC of every score plus diagnostics.

    With ``grid`` (a list), the validation AUROC of every score setting of
    the grid is appended to it as well.
    """
    clean = one_class_split(mnist.images, mnist.labels, digit, seed=0, max_test_anomalies_per_class=100)
    split = apply_noise(clean, noise, seed=0)
    validation = held_out_validation(mnist.images, mnist.labels, digit, seed=0)  # clean: the digit support
    x_val = held_out_validation(mnist.images, mnist.labels, digit, seed=0, noise=noise).x
    settings = {**BASE, **CANDIDATES[name]}
    start = time.perf_counter()
    detector = make_detector("ada", epochs=epochs, seed=0, **settings).fit(split.x_train, split.x_val)
    seconds = time.perf_counter() - start
    row: dict[str, Any] = {"candidate": name, "digit": digit, "epochs": epochs, "train_seconds": round(seconds, 1)}
    for score, (method, overrides) in SCORES.items():
        variant = detector.variant(method, x_reference=split.x_val, **overrides)  # β in this score's own units
        row[score] = round(auroc(validation.y, variant.score_samples(x_val)), 4)
    if grid is not None:
        for normalisation, sources, floor in itertools.product(GRID_NORMALISATIONS, GRID_SOURCES, GRID_FLOORS):
            variant = detector.variant(
                "ada",
                x_reference=split.x_val,  # the spread ratio of this attention term, as fit measures it
                normalisation=normalisation,
                attention_sources=sources,
                attention_floor=floor,
            )
            for beta in GRID_BETAS:
                scores = variant.variant("ada", beta=beta).score_samples(x_val)
                grid.append(
                    {
                        "candidate": name,
                        "digit": digit,
                        "normalisation": normalisation,
                        "attention_sources": sources,
                        "attention_floor": floor,
                        "beta": beta,
                        "auroc": round(auroc(validation.y, scores), 4),
                    }
                )
    normal = validation.y == 0
    for key, value in diagnose(detector, x_val[normal], validation.x[normal]).items():
        row[key] = round(value, 4)
    row["n_val_normal"], row["n_val_anomalies"] = int(normal.sum()), int((~normal).sum())
    return row


def write_markdown(rows: list[dict[str, Any]], path: Path, command: str) -> None:
    """Mean over tuning digits per candidate, best ADA first."""
    machine = machine_info()
    names = sorted({r["candidate"] for r in rows}, key=lambda n: list(CANDIDATES).index(n))
    columns = [*SCORES, "attention_share", "variety", "residual", "d_real", "d_reconstruction", "d_sample"]
    means = {n: {c: np.mean([r[c] for r in rows if r["candidate"] == n]) for c in columns} for n in names}
    digits = {n: sorted(r["digit"] for r in rows if r["candidate"] == n) for n in names}
    ranked = sorted(names, key=lambda n: -means[n]["ada"])
    lines = [
        "# Attention tuning on held-out validation data",
        "",
        "Validation AUROC (normal validation images against 30 images of every other digit, all outside the",
        "test splits of seeds 0, 1, 2), mean over the tuning digits; every score from the same trained VAEGAN.",
        "`attention_share`: share of c² on the clean digit support / the support's area share (1 = indifferent).",
        "`variety`: spread of reconstructions / spread of inputs (0 = one template for every image).",
        "",
        "| candidate | settings | digits | " + " | ".join(columns) + " |",
        "|---|---|---|" + "---|" * len(columns),
    ]
    for n in ranked:
        cells = " | ".join(f"{means[n][c]:.3f}" for c in columns)
        lines.append(f"| {n} | {CANDIDATES[n] or 'base'} | {digits[n]} | {cells} |")
    lines += [
        "",
        f"Base settings: `{BASE}`.",
        f"Command: `{command}`  ",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}.",
        "",
    ]
    path.write_text("\n".join(lines))


def main() -> None:
    """Run (or resume) every candidate on every tuning digit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, nargs="+", default=[2, 5, 7])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--output", default="results")
    parser.add_argument(
        "--score-grid",
        action="store_true",
        help="also score every normalisation x sources x beta of the grid (results/attention_scoring.csv/.md)",
    )
    args = parser.parse_args()
    Path(args.output).mkdir(parents=True, exist_ok=True)
    csv_path = Path(args.output) / "attention_tuning.csv"
    rows: list[dict[str, Any]] = []
    if csv_path.exists():
        with open(csv_path) as handle:
            rows = [_typed(r) for r in csv.DictReader(handle)]
    done = {(r["candidate"], int(r["digit"]), int(r["epochs"])) for r in rows}
    mnist = load_mnist("bundled")
    noise = BackgroundNoise()
    command = "python -m studies.tune_attention --digits " + " ".join(map(str, args.digits))
    command += f" --epochs {args.epochs}"
    if args.candidates != list(CANDIDATES):
        command += " --candidates " + " ".join(args.candidates)
    if args.output != "results":
        command += f" --output {args.output}"
    grid_path = Path(args.output) / "attention_scoring.csv"
    grid_done = set()
    if args.score_grid and grid_path.exists():
        with open(grid_path) as handle:
            grid_done = {(r["candidate"], int(r["digit"])) for r in csv.DictReader(handle)}
    for name in args.candidates:
        for digit in args.digits:
            trained = (name, digit, args.epochs) in done
            if trained and (not args.score_grid or (name, digit) in grid_done):
                continue
            grid: list[dict[str, Any]] | None = [] if args.score_grid else None
            row = evaluate_candidate(name, digit, args.epochs, mnist, noise, grid)
            print(row, flush=True)
            if grid:
                _append_csv(grid_path, grid)
            if not trained:  # a retrained model for the grid gives the same row (training is deterministic)
                _append_csv(csv_path, [row])
                rows.append(row)
        write_markdown([r for r in rows if int(r["epochs"]) == args.epochs], csv_path.with_suffix(".md"), command)
    if args.score_grid:
        write_grid_markdown(Path(args.output) / "attention_scoring.csv", command + " --score-grid")


def _typed(row: dict[str, str]) -> dict[str, Any]:
    """A row read back from the CSV with its numbers as numbers."""
    return {k: v if k == "candidate" else int(v) if k in ("digit", "epochs") else float(v) for k, v in row.items()}


def _append_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    new_file = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        if new_file:
            writer.writeheader()
        writer.writerows(rows)


def write_grid_markdown(path: Path, command: str) -> None:
    """Mean validation AUROC over the tuning digits of every score setting, best first."""
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    groups: dict[tuple[str, str, str, float, float], list[float]] = {}
    for r in rows:
        key = (
            r["candidate"],
            r["normalisation"],
            r["attention_sources"],
            float(r["attention_floor"]),
            float(r["beta"]),
        )
        groups.setdefault(key, []).append(float(r["auroc"]))
    digits = sorted({int(r["digit"]) for r in rows})
    lines = [
        "# ADA score settings on held-out validation data",
        "",
        f"Validation AUROC of ADA, mean over tuning digits {digits} (same validation data as",
        "`attention_tuning.md`); β in units of the two terms' spread on normal validation images.",
        "",
        "| candidate | normalisation | attention sources | attention floor | β | validation AUROC | digits |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, values in sorted(groups.items(), key=lambda item: -np.mean(item[1])):
        cells = f"{key[3]:g} | {key[4]:g} | {np.mean(values):.3f} | {len(values)}"
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {cells} |")
    lines += ["", f"Command: `{command}`", ""]
    path.with_suffix(".md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
