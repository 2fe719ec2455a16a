"""The paper's supervised comparison: "CNN regression".

A CNN (the discriminator architecture) trained as a binary classifier of
normal images (label 0) against the few known-anomaly images (label 1); its
predicted probability of "anomaly" is the score, and its class activation
map is the anomaly map. It is strong on the known anomaly mode and has no
reason to generalise to the others, which is what Table 3 of the paper
measures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from adda_keras.attention import attention_maps
from adda_keras.detectors.base import KerasDetector, register_detector
from adda_keras.models.networks import build_discriminator
from adda_keras.training import DivergenceGuard, resolve_strategy, set_seed


@register_detector("cnn-regression")
class CNNRegressionDetector(KerasDetector):
    """Normal vs known-anomaly CNN classifier; score = P(anomaly).

    Classes are balanced by weighting, since the known anomalies are few.

    Args:
        **params: see :class:`~adda_keras.detectors.KerasDetector`
            (``latent_dim`` is unused).
    """

    methods = ("cnn-regression",)
    learning = "supervised"

    def __init__(self, method: str = "cnn-regression", **params: Any) -> None:
        super().__init__(method, **params)
        self.network_: keras.Model | None = None
        self._score = None

    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
    ) -> CNNRegressionDetector:
        """Train the classifier on ``x_train`` (normal) against ``x_known`` (anomalies)."""
        if x_known is None:
            raise ValueError("'cnn-regression' is supervised and needs x_known: training images of the known anomaly")
        x_train, x_val, others = self._check_training_data(x_train, x_val, x_known=x_known, x_val_known=x_val_known)
        x_known = others["x_known"]
        images = np.concatenate([x_train, x_known])
        labels = np.r_[np.zeros(len(x_train)), np.ones(len(x_known))].astype(np.float32)
        weights = np.where(labels == 1, len(x_train) / len(x_known), 1.0).astype(np.float32)
        set_seed(self.seed)
        with resolve_strategy(self.distribute).scope():
            network = build_discriminator(x_train.shape[1:], name="classifier")
            classifier = keras.Model(network.inputs, network.outputs[0], name="cnn_regression")
            classifier.compile(
                optimizer=keras.optimizers.Adam(self.learning_rate),
                loss=keras.losses.BinaryCrossentropy(from_logits=True),
            )
        train = (
            tf.data.Dataset.from_tensor_slices((images, labels, weights))
            .shuffle(len(images), seed=self.seed)
            .batch(self.batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )
        validation = None
        if x_val is not None and others["x_val_known"] is not None:
            val_images = np.concatenate([x_val, others["x_val_known"]])
            val_labels = np.r_[np.zeros(len(x_val)), np.ones(len(others["x_val_known"]))].astype(np.float32)
            validation = (val_images, val_labels)
        callbacks = [DivergenceGuard(), *callbacks]
        if self.checkpoint_dir is not None:
            callbacks.append(keras.callbacks.BackupAndRestore(self.checkpoint_dir))
        history = classifier.fit(
            train, epochs=self.epochs, validation_data=validation, callbacks=callbacks, verbose=verbose, shuffle=False
        )
        self.history_ = {k: [float(v) for v in values] for k, values in history.history.items()}
        self.network_ = network
        self.image_shape_ = tuple(x_train.shape[1:])
        self._score = None
        return self._threshold_after_fit(x_val)

    def _predict_batch(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if self._score is None:
            network = self.network_

            @tf.function(input_signature=[tf.TensorSpec((None, *self.image_shape_), tf.float32)])
            def score(batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                logit, _ = network(batch, training=False)
                return tf.sigmoid(logit[:, 0]), attention_maps(network, batch, "cam")

            self._score = score
        return self._score(images)

    def _networks(self) -> dict[str, keras.Model]:
        return {"classifier": self.network_}

    def _restore(self, networks: dict[str, keras.Model], state: dict[str, Any]) -> None:
        super()._restore(networks, state)
        self.network_ = networks["classifier"]
        self._score = None
