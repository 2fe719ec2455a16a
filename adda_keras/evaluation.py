"""Threshold-free evaluation, thresholds fitted on validation data, pictures.

AUROC is the paper's metric. Where ground-truth masks of the anomalous
pixels exist, :func:`pixel_auroc` and :func:`aupro` (the MVTec AD
definition) measure whether an anomaly *map* points at the defect. Thresholds are offered the way a deployment
needs them and never fitted on the test set: by a target false-positive rate
on *normal validation* scores, or by best F1 where labelled anomalies exist
(the semi-supervised validation split). Plot functions return a matplotlib
``Figure`` and import pyplot lazily, so the library imports without a
display and notebooks show the figures inline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _check_scores(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if labels.shape != scores.shape:
        raise ValueError(f"labels and scores must have the same length; got {labels.shape[0]} and {scores.shape[0]}")
    if not np.isfinite(scores).all():
        raise ValueError(f"scores must be finite; {int((~np.isfinite(scores)).sum())} are NaN or inf")
    if set(np.unique(labels).tolist()) != {0, 1}:
        raise ValueError(
            f"labels must contain both 0 (normal) and 1 (anomaly); got values {np.unique(labels).tolist()}"
        )
    return labels.astype(np.int64), scores


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` (higher = anomaly) against 0/1 ``labels``."""
    labels, scores = _check_scores(labels, scores)
    return float(roc_auc_score(labels, scores))


def _check_pixel_inputs(masks: np.ndarray, maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth ``masks`` as bool and anomaly ``maps`` as float64, both ``(N, H, W)``."""
    masks = np.asarray(masks)
    maps = np.asarray(maps, dtype=np.float64)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W) or (N, H, W, 1); got {masks.shape}")
    if maps.shape != masks.shape:
        raise ValueError(f"maps must have the shape of masks {masks.shape}; got {maps.shape}")
    if masks.dtype != bool and not np.isin(masks, (0, 1)).all():
        raise ValueError("masks must be boolean or 0/1 (1 = anomalous pixel)")
    if not np.isfinite(maps).all():
        raise ValueError(f"maps must be finite; {int((~np.isfinite(maps)).sum())} values are NaN or inf")
    masks = masks.astype(bool)
    if not masks.any():
        raise ValueError("masks mark no anomalous pixel: pixel metrics need at least one")
    if masks.all():
        raise ValueError("masks mark every pixel anomalous: pixel metrics need normal pixels too")
    return masks, maps


def pixel_auroc(masks: np.ndarray, maps: np.ndarray) -> float:
    """AUROC of every pixel of every image: anomaly ``maps`` against ground-truth ``masks``.

    All pixels of all images form one pool (images without anomalous pixels
    contribute normal pixels only), as in the MVTec AD benchmark.

    Args:
        masks: ``(N, H, W)`` booleans, True on anomalous pixels.
        maps: ``(N, H, W)`` anomaly maps, higher = more anomalous.
    """
    masks, maps = _check_pixel_inputs(masks, maps)
    return float(roc_auc_score(masks.reshape(-1), maps.reshape(-1)))


def pro_curve(masks: np.ndarray, maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The per-region-overlap curve: false-positive rate and PRO at every threshold of ``maps``.

    At a threshold ``t``, the false-positive rate is the share of normal
    pixels (all images) with a map value ``>= t``, and the PRO the mean,
    over every connected component of the masks (8-connected, per image),
    of the share of the component's pixels with a value ``>= t``: a large
    defect counts as much as a small one. Exact (one point per distinct map
    value, from the highest down), starting at ``(0, 0)``.

    Returns:
        ``(fpr, pro)``, non-decreasing float64 arrays of equal length.
    """
    masks, maps = _check_pixel_inputs(masks, maps)
    regions = np.zeros(masks.shape, dtype=np.int64)
    n_regions = 0
    for index, mask in enumerate(masks):
        labelled, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=int))
        regions[index] = np.where(labelled > 0, labelled + n_regions, 0)
        n_regions += count
    regions = regions.reshape(-1)
    sizes = np.bincount(regions, minlength=n_regions + 1).astype(np.float64)
    # Each normal pixel above the threshold adds 1/(normal pixels) to the FPR, each pixel of
    # region r adds 1/(size of r * number of regions) to the PRO.
    fpr_step = np.where(regions == 0, 1.0 / sizes[0], 0.0)
    pro_step = np.where(regions > 0, 1.0 / (sizes[regions] * n_regions), 0.0)
    values = maps.reshape(-1)
    order = np.argsort(-values, kind="stable")
    fpr, pro = np.cumsum(fpr_step[order]), np.cumsum(pro_step[order])
    ranked = values[order]
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    return np.r_[0.0, np.minimum(fpr[last_of_tie], 1.0)], np.r_[0.0, np.minimum(pro[last_of_tie], 1.0)]


def aupro(masks: np.ndarray, maps: np.ndarray, fpr_limit: float = 0.3) -> float:
    """Area under the PRO curve up to ``fpr_limit``, divided by ``fpr_limit`` (MVTec AD's AUPRO).

    The pixel AUROC is dominated by large defects; the PRO curve
    (:func:`pro_curve`) weighs every connected defect region equally, and
    integrating only up to a false-positive rate of 0.3 (linear
    interpolation at the limit, trapezoidal rule) ignores thresholds that
    would flag a third of the normal pixels. 1 is a perfect map; a map
    that is random gives about ``fpr_limit / 2``.

    Args:
        masks: ``(N, H, W)`` booleans, True on anomalous pixels (images
            without any are allowed: they add normal pixels).
        maps: ``(N, H, W)`` anomaly maps, higher = more anomalous.
        fpr_limit: the integration limit, in ``(0, 1]``.
    """
    if isinstance(fpr_limit, bool) or not isinstance(fpr_limit, (int, float, np.floating)) or not 0 < fpr_limit <= 1:
        raise ValueError(f"fpr_limit must be a number in (0, 1]; got {fpr_limit!r}")
    fpr, pro = pro_curve(masks, maps)
    inside = int(np.searchsorted(fpr, fpr_limit, side="right"))
    area = float(np.sum(np.diff(fpr[:inside]) * (pro[1:inside] + pro[: inside - 1]) / 2))
    if inside < len(fpr):
        # the segment that crosses the limit, cut there by linear interpolation
        x0, x1, y0, y1 = fpr[inside - 1], fpr[inside], pro[inside - 1], pro[inside]
        at_limit = y0 + (y1 - y0) * (fpr_limit - x0) / (x1 - x0)
        area += (fpr_limit - x0) * (y0 + at_limit) / 2
    return area / fpr_limit


def threshold_at_fpr(normal_scores: np.ndarray, target_fpr: float = 0.05) -> float:
    """Threshold that flags ``target_fpr`` of normal (validation) images as anomalous."""
    scores = np.asarray(normal_scores, dtype=np.float64).reshape(-1)
    if scores.size == 0 or not np.isfinite(scores).all():
        raise ValueError("normal_scores must be a non-empty array of finite scores")
    if not 0.0 < target_fpr < 1.0:
        raise ValueError(f"target_fpr must lie in (0, 1); got {target_fpr}")
    return float(np.quantile(scores, 1.0 - target_fpr))


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default); ``(0, 1)`` for no trials.

    A false-positive rate measured on ``trials`` normal validation images is
    such a proportion: the interval says what rate new normal images may
    show from sampling alone.
    """
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must lie in [0, trials={trials}]; got {successes}")
    p = successes / trials
    denominator = 1 + z**2 / trials
    centre = (p + z**2 / (2 * trials)) / denominator
    half = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denominator
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def images_for_fpr(target_fpr: float, factor: float = 2.0) -> int:
    """Fewest normal validation images whose 95% interval at ``target_fpr`` lies within ``/factor``, ``×factor``.

    With fewer, a threshold fitted for ``target_fpr`` may flag half or twice
    that share of new normal images from sampling alone (5%: 153 images).
    """
    if not 0 < target_fpr < 1 or factor <= 1:
        raise ValueError(f"target_fpr must lie in (0, 1) and factor > 1; got {target_fpr}, {factor}")
    n = 1
    while True:
        low, high = wilson_interval(round(target_fpr * n), n)
        if low >= target_fpr / factor and high <= min(1.0, target_fpr * factor):
            return n
        n += 1


def threshold_best_f1(labels: np.ndarray, scores: np.ndarray) -> float:
    """Threshold maximising F1 on labelled (validation) data."""
    labels, scores = _check_scores(labels, scores)
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def plot_roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str = "ROC", ax=None) -> Figure:
    """ROC curves of several scores: ``{name: (labels, scores)}``, AUROC in the legend."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
    else:
        fig = ax.figure
    for name, (labels, scores) in curves.items():
        labels, scores = _check_scores(labels, scores)
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, label=f"{name} ({roc_auc_score(labels, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


#: one picture of a grid row: (image, colour map, (vmin, vmax) or None for auto, overlay or None)
_Panel = tuple[np.ndarray, str, tuple[float, float] | None, np.ndarray | None]


def _picture(images: np.ndarray, row: int) -> np.ndarray:
    """Row ``row`` of an image batch as matplotlib shows it (grey images without their channel axis)."""
    return images[row, ..., 0] if images.shape[-1] == 1 else images[row]


def _draw_grid(
    rows: list[list[_Panel]], columns: Sequence[str], row_labels: Sequence[str] | None, width: float, height: float
) -> Figure:
    """A grid of pictures without ticks: column titles on top, overlays in ``jet``, one label per row."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), len(columns), figsize=(width, height * len(rows)), squeeze=False)
    for r, panels in enumerate(rows):
        for col, (picture, cmap, limits, overlay) in enumerate(panels):
            ax = axes[r, col]
            low, high = limits if limits is not None else (None, None)
            ax.imshow(picture, cmap=cmap, vmin=low, vmax=high)
            if overlay is not None:
                ax.imshow(overlay, cmap="jet", alpha=0.45, vmin=0, vmax=max(float(overlay.max()), 1e-6))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[col], fontsize="small")
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r], fontsize="small")
    fig.tight_layout()
    return fig


def plot_examples(
    images: np.ndarray,
    reconstructions: np.ndarray,
    attention: np.ndarray,
    anomaly_maps: np.ndarray,
    row_titles: Sequence[str] | None = None,
) -> Figure:
    """Grid: input, reconstruction, attention overlay, weighted residual; one row per image."""
    rows = [
        [
            (_picture(images, r), "gray", (0, 1), None),
            (_picture(reconstructions, r), "gray", (0, 1), None),
            (_picture(images, r), "gray", (0, 1), attention[r]),
            (anomaly_maps[r], "magma", None, None),
        ]
        for r in range(len(images))
    ]
    columns = ("input x", "reconstruction x̂", "attention c", "weighted residual")
    return _draw_grid(rows, columns, row_titles, width=6.4, height=1.6)


def plot_score_anatomy(
    images: np.ndarray,
    reconstructions: np.ndarray,
    attention: np.ndarray,
    weighted_maps: np.ndarray,
    pixel_scores: np.ndarray,
    ada_scores: np.ndarray,
    row_titles: Sequence[str] | None = None,
) -> Figure:
    """The figure that carries ADA's idea: one row per image, the two scores side by side.

    Columns: the input, its reconstruction, the plain squared residual (what
    AnoVAEGAN averages), the attention ``c`` over the input, and the
    attention-weighted residual (what ADA averages). Both residual maps of
    all rows share one colour scale, so a reader can compare where each
    puts its mass; each row's label carries the pixel-residual score and the
    ADA score of that image.

    Args:
        images: ``(N, H, W, C)`` inputs in [0, 1].
        reconstructions: ``(N, H, W, C)`` their reconstructions.
        attention: ``(N, H, W)`` attention maps ``c``.
        weighted_maps: ``(N, H, W)`` ADA maps (``detector.anomaly_map``).
        pixel_scores: ``(N,)`` the pixel-residual (AnoVAEGAN) score of each image.
        ada_scores: ``(N,)`` the ADA score of each image.
        row_titles: optional label per row, shown above the scores.
    """
    residual = np.mean(np.square(np.asarray(images) - np.asarray(reconstructions)), axis=-1)
    top = float(max(residual.max(), np.asarray(weighted_maps).max(), 1e-6))
    rows = [
        [
            (_picture(images, r), "gray", (0, 1), None),
            (_picture(reconstructions, r), "gray", (0, 1), None),
            (residual[r], "magma", (0, top), None),
            (_picture(images, r), "gray", (0, 1), attention[r]),
            (weighted_maps[r], "magma", (0, top), None),
        ]
        for r in range(len(images))
    ]
    labels = [
        ("" if row_titles is None else f"{row_titles[r]}\n") + f"pixel {pixel_scores[r]:.4f}\nADA {ada_scores[r]:.4f}"
        for r in range(len(images))
    ]
    columns = ("input x", "reconstruction x̂", "residual (x − x̂)²", "attention c", "c-weighted residual")
    return _draw_grid(rows, columns, labels, width=8.0, height=1.7)
