"""Render the documentation's figures from the library into docs/assets/.

* ``noise.png``: a few bundled MNIST digits, clean and with the project's
  background noise (:class:`adda_keras.data.BackgroundNoise`) at strength 0.5,
  1.0 (the default) and 2.0.
* ``splits.png``: the sizes of the parts of the one-class and the
  semi-supervised split of the bundled MNIST test set (normal digit 0, known
  anomaly digit 1), as :func:`adda_keras.data.one_class_split` and
  :func:`adda_keras.data.semi_supervised_split` make them with seed 0.
* ``anatomy.png`` (with ``--anatomy``; trains one ADA detector, a few minutes
  on 2 CPU cores): the figure that carries ADA's idea, as notebook 04 draws
  it with the same settings (noisy digit 0 normal, 30 epochs, seed 0): input,
  reconstruction, plain residual, attention and weighted residual of three
  normal and three anomalous test images, with both scores.

Everything is seeded, so running it again gives the same pictures::

    .venv/bin/python scripts/make_doc_figures.py            # into docs/assets/
    .venv/bin/python scripts/make_doc_figures.py --out /tmp/figs
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing the package

from adda_keras.data import (  # noqa: E402
    BackgroundNoise,
    add_background_noise,
    load_mnist,
    one_class_split,
    semi_supervised_split,
)

STRENGTHS = (0.0, 0.5, 1.0, 2.0)
DIGITS = (0, 1, 2, 3, 4, 5, 6, 7)
SEED = 0
# No software version or date in the PNG, so that re-running changes no bytes.
PNG_METADATA = {"Software": None}


def pick_digits(labels: np.ndarray, digits: tuple[int, ...] = DIGITS) -> np.ndarray:
    """Index of the first image of each digit in ``digits`` (deterministic)."""
    return np.array([int(np.flatnonzero(labels == d)[0]) for d in digits])


def noise_figure(images: np.ndarray, out: Path, dpi: int) -> Path:
    """Rows: clean and noisy at each strength; columns: one digit each."""
    import matplotlib.pyplot as plt

    rows = len(STRENGTHS)
    fig, axes = plt.subplots(rows, len(images), figsize=(1.0 * len(images) + 2.2, 1.0 * rows + 0.2), squeeze=False)
    for row, strength in enumerate(STRENGTHS):
        noisy = images if strength == 0 else add_background_noise(images, BackgroundNoise(strength=strength), SEED)
        for col, image in enumerate(noisy):
            ax = axes[row, col]
            ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        label = "clean" if strength == 0 else f"strength {strength:g}" + (" (default)" if strength == 1 else "")
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=13)
    fig.subplots_adjust(left=0.21, right=0.99, top=0.99, bottom=0.01, wspace=0.05, hspace=0.05)
    path = out / "noise.png"
    fig.savefig(path, dpi=dpi, metadata=PNG_METADATA)
    plt.close(fig)
    return path


def split_figure(images: np.ndarray, labels: np.ndarray, out: Path, dpi: int) -> Path:
    """Horizontal bars: the number of images in each part of both protocols."""
    import matplotlib.pyplot as plt

    one_class = one_class_split(images, labels, normal_class=0, seed=SEED)
    semi = semi_supervised_split(images, labels, normal_class=0, known_anomaly_class=1, seed=SEED)
    colours = {"normal": "#3f51b5", "anomaly": "#e53935", "known": "#fb8c00"}
    panels = []
    for title, split in (("one-class (normal digit 0)", one_class), ("semi-supervised (+ known digit 1)", semi)):
        n_anomalies = int(split.y_test.sum())
        parts = [
            ("train: normal", len(split.x_train), "normal"),
            ("validation: normal", len(split.x_val), "normal"),
            ("test: normal", len(split.x_test) - n_anomalies, "normal"),
            ("test: anomalies (digits 1-9)", n_anomalies, "anomaly"),
        ]
        if split.known_anomaly_class is not None:
            parts += [
                ("known anomalies: train", len(split.x_known), "known"),
                ("known anomalies: validation", len(split.x_val_known), "known"),
            ]
        panels.append((title, parts))

    fig, axes = plt.subplots(1, 2, figsize=(9.0, 2.8), sharex=True)
    for ax, (title, parts) in zip(axes, panels, strict=True):
        names = [p[0] for p in parts][::-1]
        counts = [p[1] for p in parts][::-1]
        ax.barh(names, counts, color=[colours[p[2]] for p in parts][::-1])
        for y, count in enumerate(counts):
            ax.text(count * 1.08, y, str(count), va="center", fontsize=8)
        ax.set_xscale("log")
        ax.set_xlim(10, 10**5)
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("images (log scale)", fontsize=8)
    fig.tight_layout()
    path = out / "splits.png"
    fig.savefig(path, dpi=dpi, metadata=PNG_METADATA)
    plt.close(fig)
    return path


def anatomy_figure(images: np.ndarray, labels: np.ndarray, out: Path, dpi: int) -> Path:
    """Notebook 04's score anatomy: one trained ADA detector, six noisy test images."""
    import matplotlib.pyplot as plt

    from adda_keras import make_detector
    from adda_keras.data import apply_noise
    from adda_keras.evaluation import plot_score_anatomy

    clean = one_class_split(images, labels, normal_class=0, seed=SEED, max_test_anomalies_per_class=100)
    split = apply_noise(clean, BackgroundNoise(strength=1.0), seed=SEED)
    ada = make_detector("ada", epochs=30, seed=SEED).fit(split.x_train, x_val=split.x_val)
    picks = np.r_[
        np.flatnonzero(split.y_test == 0)[:3], [np.flatnonzero(split.test_classes == d)[0] for d in (2, 5, 7)]
    ]
    x = split.x_test[picks]
    parts = ada.explain(x)
    fig = plot_score_anatomy(
        x,
        parts["reconstruction"],
        parts["attention"],
        ada.anomaly_map(x),
        ada.variant("anovaegan").score_samples(x),
        ada.score_samples(x),
        [f"{'anomaly' if split.y_test[i] else 'normal'} ({split.test_classes[i]})" for i in picks],
    )
    path = out / "anatomy.png"
    fig.savefig(path, dpi=dpi, metadata=PNG_METADATA)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "assets", help="output folder (docs/assets)")
    parser.add_argument("--dpi", type=int, default=100, help="resolution of the PNGs (default 100)")
    parser.add_argument("--anatomy", action="store_true", help="also train ADA and draw anatomy.png (minutes)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    mnist = load_mnist("bundled")
    digits = np.ascontiguousarray(mnist.images[pick_digits(mnist.labels)])
    paths = [noise_figure(digits, args.out, args.dpi), split_figure(mnist.images, mnist.labels, args.out, args.dpi)]
    if args.anatomy:
        paths.append(anatomy_figure(mnist.images, mnist.labels, args.out, args.dpi))
    for path in paths:
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
