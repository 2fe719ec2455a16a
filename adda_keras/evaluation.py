"""Threshold-free evaluation, thresholds fitted on validation data, pictures.

AUROC is the paper's metric. Thresholds are offered the way a deployment
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


def threshold_at_fpr(normal_scores: np.ndarray, target_fpr: float = 0.05) -> float:
    """Threshold that flags ``target_fpr`` of normal (validation) images as anomalous."""
    scores = np.asarray(normal_scores, dtype=np.float64).reshape(-1)
    if scores.size == 0 or not np.isfinite(scores).all():
        raise ValueError("normal_scores must be a non-empty array of finite scores")
    if not 0.0 < target_fpr < 1.0:
        raise ValueError(f"target_fpr must lie in (0, 1); got {target_fpr}")
    return float(np.quantile(scores, 1.0 - target_fpr))


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


def plot_examples(
    images: np.ndarray,
    reconstructions: np.ndarray,
    attention: np.ndarray,
    anomaly_maps: np.ndarray,
    row_titles: Sequence[str] | None = None,
) -> Figure:
    """Grid: input, reconstruction, attention overlay, weighted residual; one row per image."""
    import matplotlib.pyplot as plt

    n = len(images)
    fig, axes = plt.subplots(n, 4, figsize=(6.4, 1.6 * n), squeeze=False)
    columns = ("input x", "reconstruction x̂", "attention c", "weighted residual")
    for row in range(n):
        image = images[row, ..., 0] if images.shape[-1] == 1 else images[row]
        recon = reconstructions[row, ..., 0] if reconstructions.shape[-1] == 1 else reconstructions[row]
        panels = (
            (image, "gray", None),
            (recon, "gray", None),
            (image, "gray", attention[row]),
            (anomaly_maps[row], "magma", None),
        )
        for col, (picture, cmap, overlay) in enumerate(panels):
            ax = axes[row, col]
            ax.imshow(picture, cmap=cmap, vmin=0 if col < 3 else None, vmax=1 if col < 3 else None)
            if overlay is not None:
                ax.imshow(overlay, cmap="jet", alpha=0.45, vmin=0, vmax=max(float(overlay.max()), 1e-6))
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[col], fontsize="small")
        if row_titles is not None:
            axes[row, 0].set_ylabel(row_titles[row], fontsize="small")
    fig.tight_layout()
    return fig
