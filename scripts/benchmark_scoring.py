"""Attention + score throughput of every registered method, in images per second.

Each detector is trained briefly (throughput does not depend on how well it
is trained), then ``score_samples`` (for ADA: reconstruction, CAM of ``x``
and ``x̂``, ``D(x)`` and the score, in one compiled pass per batch) is timed
on noisy-MNIST test images; the best of ``--repeats`` runs is kept. Writes
``results/benchmark_scoring.md``. The paper reports about 10 ms per attention
map on an Nvidia Titan X.

    python scripts/benchmark_scoring.py [--images 2000] [--repeats 3] [--output results]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from adda_keras import available_detectors, make_detector
from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, semi_supervised_split
from adda_keras.experiments import machine_info

SUPERVISED = {"ada-semi", "ada-cam-ano", "cnn-regression"}


def main() -> None:
    """Time every method and write the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--output", default="results")
    args = parser.parse_args()
    mnist = load_mnist("bundled")
    split = semi_supervised_split(mnist.images, mnist.labels, normal_class=0, known_anomaly_class=1, n_known=50)
    split = apply_noise(split, BackgroundNoise(), seed=0)
    images = split.x_test[: args.images]
    rows = []
    for name in available_detectors():
        detector = make_detector(
            name, **({"epochs": 1} if name not in {"pca", "knn", "ocsvm", "isolation-forest"} else {})
        )
        known = {"x_known": split.x_known} if name in SUPERVISED else {}
        detector.fit(split.x_train[:256], **known)
        detector.score_samples(images[:64], batch_size=args.batch_size)  # compile outside the timing
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            detector.score_samples(images, batch_size=args.batch_size)
            best = min(best, time.perf_counter() - start)
        rows.append((name, len(images) / best, 1000 * best / len(images)))
        print(f"{name:<18} {rows[-1][1]:>10.0f} images/s {rows[-1][2]:>8.3f} ms/image", flush=True)
    machine = machine_info()
    lines = [
        "# Attention + score throughput",
        "",
        f"Command: `python scripts/benchmark_scoring.py --images {args.images} --repeats {args.repeats} "
        f"--batch-size {args.batch_size}`; {len(images)} noisy 28x28 MNIST test images, best of {args.repeats}.",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}.",
        "",
        "| method | images / s | ms / image |",
        "|---|---|---|",
        *[f"| {name} | {rate:.0f} | {ms:.3f} |" for name, rate, ms in rows],
        "",
        "The paper reports about 10 ms per attention map per image on an Nvidia Titan X.",
        "",
    ]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark_scoring.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
