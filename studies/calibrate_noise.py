"""Calibrate the background-noise strength with pixel baselines only.

The paper's noise recipe is unpublished, so its difficulty is ours to set. It
is set *without* the paper's methods: this script measures how PCA
reconstruction error and k-nearest-neighbour distance on raw pixels (both
from :mod:`adda_keras.detectors.baselines`) degrade as the noise grows, for every normal
digit, and writes ``results/noise_calibration.csv`` and ``.md``. It never
scores a test image: each detector is trained on the quick preset's training
split and scored on held-out labelled validation data
(:func:`adda_keras.data.held_out_validation`: normal validation images and
other digits' images outside the test splits of seeds 0, 1 and 2), noised
with its own seed. It also
measures the variant with a 2-pixel noise-free halo around the digit, which
leaks the digit's silhouette (AUROC rises with noise) and was rejected.

    python -m studies.calibrate_noise [--output results] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from adda_keras import make_detector
from adda_keras.data import (
    BackgroundNoise,
    apply_noise,
    held_out_validation,
    load_mnist,
    one_class_split,
)
from adda_keras.evaluation import auroc
from adda_keras.experiments.common import machine_info

SETTINGS = [
    ("clean", BackgroundNoise(strength=0.0)),
    ("strength 0.25", BackgroundNoise(strength=0.25)),
    ("strength 0.5", BackgroundNoise(strength=0.5)),
    ("strength 1 (default)", BackgroundNoise(strength=1.0)),
    ("strength 2", BackgroundNoise(strength=2.0)),
    ("strength 1, 2-px halo", BackgroundNoise(strength=1.0, support_dilation=2)),
]


def main() -> None:
    """Run every setting on every digit and write the CSV and the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="results")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--anomalies-per-digit", type=int, default=100, help="validation anomalies per other digit")
    args = parser.parse_args()
    mnist = load_mnist("bundled")
    rows = []
    start = time.perf_counter()
    for label, noise in SETTINGS:
        for digit in range(10):
            split = one_class_split(mnist.images, mnist.labels, digit, seed=args.seed, max_test_anomalies_per_class=100)
            split = apply_noise(split, noise, seed=args.seed)
            validation = held_out_validation(
                mnist.images, mnist.labels, digit, args.seed, anomalies_per_class=args.anomalies_per_digit, noise=noise
            )
            x_val = validation.x
            for method in ("pca", "knn"):
                detector = make_detector(method, seed=args.seed).fit(split.x_train)
                value = auroc(validation.y, detector.score_samples(x_val))
                rows.append({"setting": label, "method": method, "digit": digit, "auroc": round(value, 4)})
        print(
            label,
            {
                m: round(np.mean([r["auroc"] for r in rows if r["setting"] == label and r["method"] == m]), 3)
                for m in ("pca", "knn")
            },
            flush=True,
        )
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "noise_calibration.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    machine = machine_info()
    lines = [
        "# Noise calibration (pixel baselines only)",
        "",
        f"Command: `python -m studies.calibrate_noise --seed {args.seed} --anomalies-per-digit "
        f"{args.anomalies_per_digit}`; bundled MNIST, one-class protocol, mean *validation* AUROC over the ten "
        "normal digits (held-out normal validation images against other digits' images outside the test splits "
        "of seeds 0, 1, 2; no test image is scored).",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, TensorFlow {machine['tensorflow']}, "
        f"scikit-learn {machine['scikit-learn']}; {time.perf_counter() - start:.0f} s.",
        "",
        "| setting | PCA residual | kNN distance |",
        "|---|---|---|",
    ]
    for label, _ in SETTINGS:
        means = [
            np.mean([r["auroc"] for r in rows if r["setting"] == label and r["method"] == m]) for m in ("pca", "knn")
        ]
        lines.append(f"| {label} | {means[0]:.3f} | {means[1]:.3f} |")
    (out / "noise_calibration.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
