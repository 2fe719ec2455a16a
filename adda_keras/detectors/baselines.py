"""Classical one-class detectors on raw pixels: the bar a deep method must clear.

The detectors a practitioner would try first, behind the same API as the
paper's methods (registered names ``isolation-forest``, ``ocsvm``, ``pca``,
``knn``). All work on flattened pixels:

* ``pca`` — reconstruction error after projecting on the principal
  components of the normal training images; its map is the squared residual.
* ``knn`` — mean Euclidean distance to the ``k`` nearest normal training
  images; its map is the squared difference to the nearest one. A strong
  baseline on MNIST.
* ``isolation-forest`` and ``ocsvm`` — scikit-learn's IsolationForest and
  OneClassSVM (RBF kernel); they have no spatial explanation, so their
  result carries no map.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import NearestNeighbors
from sklearn.svm import OneClassSVM

from adda_keras.data.pipeline import check_images
from adda_keras.detectors.base import AnomalyDetector, AnomalyResult, register_detector
from adda_keras.validation import check_int, check_number, check_seed

CLASSICAL_METHODS = ("isolation-forest", "ocsvm", "pca", "knn")


@register_detector(*CLASSICAL_METHODS)
class PixelDetector(AnomalyDetector):
    """A scikit-learn one-class detector on flattened pixels.

    Args:
        method: one of :data:`CLASSICAL_METHODS`.
        n_components: principal components kept by ``pca`` (an integer >= 1).
        n_neighbors: neighbours averaged by ``knn`` (an integer >= 1).
        nu: OneClassSVM's bound on the fraction of training outliers, in ``(0, 1]``.
        n_estimators: trees of the IsolationForest (an integer >= 1).
        seed: seeds the randomised estimators, an integer in ``[0, 2**32 - 1]``.
    """

    methods = CLASSICAL_METHODS
    learning = "one-class"

    def __init__(
        self,
        method: str = "knn",
        n_components: int = 32,
        n_neighbors: int = 5,
        nu: float = 0.1,
        n_estimators: int = 200,
        seed: int = 0,
    ) -> None:
        super().__init__(method)
        self.n_components = check_int("n_components", n_components)
        self.n_neighbors = check_int("n_neighbors", n_neighbors)
        self.nu = check_number("nu", nu, 0.0, 1.0, open_low=True)
        self.n_estimators = check_int("n_estimators", n_estimators)
        self.seed = check_seed("seed", seed)
        self.estimator_: Any = None
        self.train_: np.ndarray | None = None

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters."""
        return {
            "n_components": self.n_components,
            "n_neighbors": self.n_neighbors,
            "nu": self.nu,
            "n_estimators": self.n_estimators,
            "seed": self.seed,
        }

    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
    ) -> PixelDetector:
        """Fit on normal images; ``x_val`` (normal validation images) only sets the threshold."""
        if x_known is not None:
            raise ValueError(f"{self.method!r} is a one-class detector and takes no known anomalies")
        x_train = check_images(x_train, "x_train")
        flat = x_train.reshape(len(x_train), -1)
        if self.method == "pca":
            self.estimator_ = PCA(min(self.n_components, *flat.shape), random_state=self.seed).fit(flat)
        elif self.method == "knn":
            self.estimator_ = NearestNeighbors(n_neighbors=min(self.n_neighbors, len(flat))).fit(flat)
            self.train_ = flat
        elif self.method == "isolation-forest":
            self.estimator_ = IsolationForest(n_estimators=self.n_estimators, random_state=self.seed).fit(flat)
        else:
            self.estimator_ = OneClassSVM(nu=self.nu, gamma="scale").fit(flat)
        self.image_shape_ = tuple(x_train.shape[1:])
        return self._threshold_after_fit(x_val)

    def _predict(self, images: np.ndarray, batch_size: int) -> AnomalyResult:
        """Scores (and maps for ``pca`` / ``knn``) of ``images``."""
        images = self._check_input(images)
        flat = images.reshape(len(images), -1).astype(np.float64)
        shape = images.shape
        if self.method == "pca":
            residual = (flat - self.estimator_.inverse_transform(self.estimator_.transform(flat))) ** 2
            maps = residual.reshape(shape).mean(-1)
            return AnomalyResult(residual.mean(1).astype(np.float32), maps.astype(np.float32))
        if self.method == "knn":
            distances, indices = self.estimator_.kneighbors(flat)
            nearest = self.train_[indices[:, 0]]
            maps = ((flat - nearest) ** 2).reshape(shape).mean(-1)
            return AnomalyResult(distances.mean(1).astype(np.float32), maps.astype(np.float32))
        return AnomalyResult((-self.estimator_.score_samples(flat)).astype(np.float32), None)

    def save(self, path: str | Path) -> None:
        """Pickle the fitted detector to a ``.pkl`` file (scikit-learn models are not Keras models).

        Loading a pickle runs code chosen by whoever wrote the file: load only
        ``.pkl`` detectors that you saved yourself or trust (see
        :func:`~adda_keras.detectors.load_detector`).
        """
        path = Path(path)
        if path.suffix != ".pkl":
            raise ValueError(f"a pixel detector saves to a '.pkl' file; got {str(path)!r}")
        if self.image_shape_ is None:
            raise RuntimeError("fit the detector before saving it")
        with open(path, "wb") as handle:
            pickle.dump(self, handle)
