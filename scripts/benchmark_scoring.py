"""Attention + score throughput of every registered method, in images per second, and training seconds per epoch.

Each detector is trained for two epochs on ``--train-images`` images
(throughput does not depend on how well it is trained); the second epoch is
timed (the first one also traces the training step). Then ``score_samples``
(for ADA: reconstruction, CAM of ``x`` and ``x̂``, ``D(x)`` and the score, in
one compiled pass per batch) is timed; the best of ``--repeats`` runs is
kept, in wall-clock time and in CPU time of the process (all threads): on a
machine that other jobs keep busy, the wall clock measures the share the
benchmark got, the CPU time the work it needed. At 28x28 grayscale the images are noisy-MNIST test images; at other
sizes they are crops of scikit-image's brick photo (for ``--color rgb`` its
gray level in all three channels: the cost of a pass does not depend on the
content). Writes ``results/benchmark_scoring.md`` (28x28 grayscale) or
``results/benchmark_scoring_<H>x<W>_<color>.md``. The paper reports about
10 ms per attention map on an Nvidia Titan X.

    python scripts/benchmark_scoring.py [--images 2000] [--repeats 3] [--output results]
    python scripts/benchmark_scoring.py --image-size 64 --color rgb --methods ada anovaegan knn
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import keras
import numpy as np

from adda_keras import available_detectors, make_detector
from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, semi_supervised_split
from adda_keras.detectors import KerasDetector
from adda_keras.experiments.common import machine_info
from adda_keras.experiments.own_images import SUPERVISED_METHODS


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every training epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Start the clock."""
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Record the epoch's duration."""
        self.seconds.append(time.perf_counter() - self._start)


def benchmark_images(
    size: int, color: str, n_images: int, n_train: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Test images, normal training images, known anomalies and a description of them."""
    if size == 28 and color == "grayscale":
        mnist = load_mnist("bundled")
        split = semi_supervised_split(mnist.images, mnist.labels, normal_class=0, known_anomaly_class=1, n_known=50)
        split = apply_noise(split, BackgroundNoise(), seed=0)
        return split.x_test[:n_images], split.x_train[:n_train], split.x_known, "noisy 28x28 MNIST test images"
    from adda_keras.data.defects import texture_crops

    channels = 3 if color == "rgb" else 1
    test = texture_crops("brick", n_images, seed=0, size=size).repeat(channels, axis=-1)
    train = texture_crops("brick", n_train, seed=1, size=size).repeat(channels, axis=-1)
    known = texture_crops("gravel", 50, seed=2, size=size).repeat(channels, axis=-1)
    what = f"{size}x{size} {color} crops of scikit-image's brick photo" + (
        " (gray in 3 channels)" if channels == 3 else ""
    )
    return test, train, known, what


def main() -> None:
    """Time every method and write the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000, help="images scored per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512, help="scoring batch size")
    parser.add_argument("--train-images", type=int, default=256, help="images of each timed training epoch")
    parser.add_argument("--image-size", type=int, default=28, help="image side in pixels (28, 32, 64, 128)")
    parser.add_argument("--color", choices=("grayscale", "rgb"), default="grayscale")
    parser.add_argument("--methods", nargs="+", choices=available_detectors(), help="default: every method")
    parser.add_argument("--output", default="results")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    images, train, known, what = benchmark_images(args.image_size, args.color, args.images, args.train_images)
    rows = []
    for name in args.methods or available_detectors():
        probe = make_detector(name)
        detector = make_detector(name, epochs=2) if isinstance(probe, KerasDetector) else probe
        timer = EpochTimer()
        known_images = {"x_known": known} if name in SUPERVISED_METHODS else {}
        start = time.perf_counter()
        if isinstance(detector, KerasDetector):
            detector.fit(train, callbacks=[timer], **known_images)
            epoch = timer.seconds[-1]
        else:
            detector.fit(train)
            epoch = time.perf_counter() - start
        detector.score_samples(images[:64], batch_size=args.batch_size)  # compile outside the timing
        best, best_cpu = float("inf"), float("inf")
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            detector.score_samples(images, batch_size=args.batch_size)
            best, best_cpu = min(best, time.perf_counter() - start), min(best_cpu, time.process_time() - start_cpu)
        rows.append((name, len(images) / best, 1000 * best / len(images), 1000 * best_cpu / len(images), epoch))
        print(
            f"{name:<18} {rows[-1][1]:>10.0f} images/s {rows[-1][2]:>8.3f} ms/image "
            f"{rows[-1][3]:>8.3f} CPU ms/image {epoch:>8.2f} s/epoch",
            flush=True,
        )
    machine = machine_info()
    command = (
        f"python scripts/benchmark_scoring.py --images {args.images} --repeats {args.repeats} "
        f"--batch-size {args.batch_size} --train-images {args.train_images} --image-size {args.image_size} "
        f"--color {args.color}" + (f" --methods {' '.join(args.methods)}" if args.methods else "")
    )
    lines = [
        f"# Attention + score throughput, {args.image_size}x{args.image_size} {args.color}",
        "",
        f"Command: `{command}`; {len(images)} {what}, best of {args.repeats}.",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}.",
        f"Training: seconds of the second epoch over {len(train)} images (batch 64); the pixel detectors' whole fit.",
        "",
        f"Load average before the run: {load:.1f} (other jobs on the machine slow the wall clock, not the CPU time).",
        "",
        f"| method | images / s | ms / image | CPU ms / image | training s / epoch ({len(train)} images) |",
        "|---|---|---|---|---|",
        *[f"| {name} | {rate:.0f} | {ms:.3f} | {cpu:.3f} | {epoch:.2f} |" for name, rate, ms, cpu, epoch in rows],
        "",
        "The paper reports about 10 ms per attention map per image on an Nvidia Titan X.",
        "",
    ]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    suffix = (
        ""
        if (args.image_size, args.color) == (28, "grayscale")
        else f"_{args.image_size}x{args.image_size}_{args.color}"
    )
    (out / f"benchmark_scoring{suffix}.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
