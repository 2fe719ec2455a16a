"""What every trainable model of the library shares.

Each model is a thin ``keras.Model`` subclass that owns a few functional
sub-networks (from :mod:`adda_keras.models.networks`), one Adam optimizer per
sub-network, loss trackers shown in Keras' progress bar, and a custom
``train_step``. The training steps use ``tf.GradientTape`` because one
forward pass feeds several losses with different parameter sets (encoder,
decoder, discriminator); this ties training to the TensorFlow backend, which
the library requires anyway for ``tf.data`` and ``tf.distribute``.

Saving: sub-networks are serialised in ``get_config``; the optimizers are
rebuilt from ``get_compile_config`` before the weights are loaded, so a
``.keras`` file restores a model that can both score and resume training.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
import tensorflow as tf


def kl_divergence(z_mean: tf.Tensor, z_log_var: tf.Tensor) -> tf.Tensor:
    """KL(q(z|x) || N(0, I)) per example, summed over latent dimensions."""
    return -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=-1)


def sum_squared_error(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Squared error per example, summed over every non-batch axis."""
    return tf.reduce_sum(tf.reshape(tf.square(a - b), (tf.shape(a)[0], -1)), axis=-1)


def mean_squared_error(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Squared error per example, averaged over every non-batch axis."""
    return tf.reduce_mean(tf.reshape(tf.square(a - b), (tf.shape(a)[0], -1)), axis=-1)


def binary_cross_entropy(target: float, logits: tf.Tensor) -> tf.Tensor:
    """Per-example sigmoid cross-entropy of ``logits`` against a constant label."""
    labels = tf.fill(tf.shape(logits), tf.cast(target, logits.dtype))
    return tf.reduce_mean(
        tf.reshape(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits), (tf.shape(logits)[0], -1)),
        axis=-1,
    )


def split_batch(data: Any) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Split a ``fit`` element into normal images and optional known anomalies.

    One-class training feeds a bare image batch; semi-supervised training
    feeds ``(images, known_anomaly_images)``.
    """
    if isinstance(data, (tuple, list)):
        if len(data) == 1:
            return data[0], None
        return data[0], data[1]
    return data, None


class AdversarialModelBase(keras.Model):
    """Shared plumbing: sub-networks, per-network optimizers, trackers, config.

    Subclasses list their sub-networks in ``network_names`` (constructor
    arguments holding functional models) and the scalar hyper-parameters in
    ``hyperparameter_names``; this base class turns both into a Keras config
    and builds one optimizer per sub-network in :meth:`compile`.
    """

    network_names: ClassVar[tuple[str, ...]] = ()
    hyperparameter_names: ClassVar[tuple[str, ...]] = ()
    tracker_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, seed: int | None = None, metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        #: JSON-able facts saved with the model (a detector stores its
        #: settings and fitted calibration here, so one ``.keras`` file is
        #: a whole detector).
        self.metadata = dict(metadata or {})
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.tracker_names}
        self._compile_settings: dict[str, Any] = {}
        # The sub-networks are functional models, built on construction.
        self.built = True

    # -- Keras plumbing -------------------------------------------------
    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        """Loss trackers, reset by Keras at the start of every epoch."""
        return list(self.trackers.values())

    def compile(
        self,
        learning_rate: float = 2e-4,
        beta_1: float = 0.5,
        learning_rates: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        """Create one Adam optimizer per sub-network.

        Args:
            learning_rate: Adam learning rate for every sub-network.
            beta_1: Adam's first-moment decay (0.5 is the usual GAN setting).
            learning_rates: optional per-network overrides, keyed by the
                names in ``network_names``.
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``jit_compile``).
        """
        learning_rates = dict(learning_rates or {})
        unknown = set(learning_rates) - set(self.network_names)
        if unknown:
            raise ValueError(
                f"learning_rates has unknown network names {sorted(unknown)}; valid names: {list(self.network_names)}"
            )
        kwargs.pop("optimizer", None)
        super().compile(optimizer=None, **kwargs)
        for name in self.network_names:
            optimizer = keras.optimizers.Adam(
                learning_rates.get(name, learning_rate), beta_1=beta_1, name=f"{name}_adam"
            )
            optimizer.build(getattr(self, name).trainable_variables)
            setattr(self, f"{name}_optimizer", optimizer)
        self._compile_settings = {"learning_rate": learning_rate, "beta_1": beta_1, "learning_rates": learning_rates}

    def get_compile_config(self) -> dict[str, Any] | None:
        """Return the compile settings so that a loaded model can resume training."""
        return dict(self._compile_settings) if self._compile_settings else None

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Recreate (and build) the optimizers before their state is loaded."""
        self.compile(**config)

    def get_config(self) -> dict[str, Any]:
        """Serialise the sub-networks and hyper-parameters."""
        config = super().get_config()
        config.update({name: keras.saving.serialize_keras_object(getattr(self, name)) for name in self.network_names})
        config.update({name: getattr(self, name) for name in self.hyperparameter_names})
        config["seed"] = self.seed
        config["metadata"] = self.metadata
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AdversarialModelBase:
        """Rebuild the model from :meth:`get_config` output."""
        config = dict(config)
        for name in cls.network_names:
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    # -- helpers for the training steps ----------------------------------
    def _apply(self, tape: tf.GradientTape, loss: tf.Tensor, network_name: str) -> None:
        """Apply the gradient of ``loss`` to one sub-network's weights."""
        network = getattr(self, network_name)
        optimizer = getattr(self, f"{network_name}_optimizer", None)
        if optimizer is None:
            raise RuntimeError(f"{type(self).__name__} must be compiled before training")
        # Keras sums gradients over replicas: scale so that they are averaged.
        scale = 1.0 / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(loss, network.trainable_variables)
        optimizer.apply_gradients(zip([g * scale for g in grads], network.trainable_variables, strict=True))

    def _record(self, values: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def _latent_sample(self, batch_size: tf.Tensor, latent_dim: int) -> tf.Tensor:
        return keras.random.normal((batch_size, latent_dim), seed=self.seed_generator)
