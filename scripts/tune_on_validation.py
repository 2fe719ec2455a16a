"""Choose VAEGAN settings on validation data only, never on test labels.

The one-class protocol's validation split holds normal images only, which
cannot rank detectors. The semi-supervised protocol of the paper (Table 3)
does provide labelled validation anomalies: for normal digit 0, a few
validation images of each known-anomaly digit 1, 3, 5, 7, 9, drawn before
the test split and never part of it. This script trains the self-supervised
VAEGAN with each candidate setting on normal digit 0 and ranks the settings
by validation AUROC (normal validation images against those validation
anomalies) of the ADA and AnoVAEGAN scores. It writes
``results/tuning.csv`` and ``results/tuning.md``.

    python scripts/tune_on_validation.py [--epochs 20 30] [--pixel-weights 1 0.3 0.1 0.03]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time
from pathlib import Path

import numpy as np

from adda_keras import make_detector
from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, semi_supervised_split
from adda_keras.evaluation import auroc
from adda_keras.experiments import machine_info

KNOWN = (1, 3, 5, 7, 9)


def main() -> None:
    """Train every candidate, score the validation images, write the ranking."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[20])
    parser.add_argument("--pixel-weights", type=float, nargs="+", default=[1.0, 0.3, 0.1, 0.03])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--kl-follows-pixel", action="store_true", help="set kl_weight = pixel_weight (keeps the VAE's balance)"
    )
    parser.add_argument("--tag", default="", help="suffix of the output files (tuning<tag>.csv/.md)")
    parser.add_argument("--output", default="results")
    args = parser.parse_args()
    mnist = load_mnist("bundled")
    noise = BackgroundNoise()
    splits = [
        apply_noise(
            semi_supervised_split(mnist.images, mnist.labels, 0, k, n_known=100, seed=args.seed), noise, args.seed
        )
        for k in KNOWN
    ]
    x_train, x_val = splits[0].x_train, splits[0].x_val  # the normal parts are the same for every known digit
    x_val_anomalies = np.concatenate([s.x_val_known for s in splits])
    images = np.concatenate([x_val, x_val_anomalies])
    labels = np.r_[np.zeros(len(x_val)), np.ones(len(x_val_anomalies))]
    rows = []
    start = time.perf_counter()
    for epochs, pixel_weight in itertools.product(args.epochs, args.pixel_weights):
        kl_weight = pixel_weight if args.kl_follows_pixel else 1.0
        ada = make_detector("ada", epochs=epochs, pixel_weight=pixel_weight, kl_weight=kl_weight, seed=args.seed)
        ada.fit(x_train, x_val)
        row = {"epochs": epochs, "pixel_weight": pixel_weight, "kl_weight": kl_weight}
        for method in ("anovaegan", "ada-cam-only", "ada", "ada-d-only"):
            row[method] = round(auroc(labels, ada.variant(method).score_samples(images)), 4)
        rows.append(row)
        print(row, flush=True)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"tuning{args.tag}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    machine = machine_info()
    lines = [
        "# Settings chosen on validation data",
        "",
        f"Command: `python scripts/tune_on_validation.py --epochs {' '.join(map(str, args.epochs))} "
        f"--pixel-weights {' '.join(map(str, args.pixel_weights))} --seed {args.seed}"
        f"{' --kl-follows-pixel' if args.kl_follows_pixel else ''}{f' --tag {args.tag}' if args.tag else ''}`.",
        f"Normal digit 0, noisy bundled MNIST; {len(x_val)} normal validation images against {len(x_val_anomalies)} "
        f"validation images of the known-anomaly digits {KNOWN} (20 each, never in a test split). "
        f"Validation AUROC; {time.perf_counter() - start:.0f} s on {machine['processor']}, "
        f"{machine['cpu_count']} CPUs.",
        "",
        "| epochs | pixel_weight | kl_weight | AnoVAEGAN | ADA CAM only | ADA CAM + D | ADA D only |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {r['epochs']} | {r['pixel_weight']:g} | {r['kl_weight']:g} | {r['anovaegan']:.3f} | "
            f"{r['ada-cam-only']:.3f} | {r['ada']:.3f} | {r['ada-d-only']:.3f} |"
            for r in rows
        ],
        "",
    ]
    (out / f"tuning{args.tag}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
